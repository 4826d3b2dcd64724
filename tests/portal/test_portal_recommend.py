"""The portal's "Next best things for you": the member's recommendations with their reasons,
and a "Not now" button that dismisses one (logged) and takes it off the list."""

from __future__ import annotations

from accolade.engine.experiments import CONTROL, TREATMENT, arm_of
from accolade.program.compile import compile_program
from accolade.program.loader import load_program
from tests.integration.builders import DEMO_SOURCE, MONDAY, publish_demo
from tests.portal.builders import csrf_of, portal_on


def test_home_lists_recommendations_with_reasons_and_not_now_dismisses_one(store):
    with portal_on(store) as portal:
        portal.send(
            {
                "id": "q1",
                "type": "quiz.passed",
                "member": "alice",
                "occurred_at": MONDAY.isoformat(),
            }
        )
        browser = portal.browser("alice")
        home = browser.get("/portal/")
        assert home.status_code == 200, home.text
        assert 'id="recommended"' in home.text and "Why this?" in home.text
        keys = home.text.split('name="candidate" value="')[1:]
        first = keys[0].split('"')[0]
        done = browser.post(
            "/portal/next/dismiss",
            data={"candidate": first, "csrf": csrf_of(home.text)},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        after = browser.get("/portal/").text
        assert f'name="candidate" value="{first}"' not in after


def test_dismiss_without_the_csrf_token_is_refused(store):
    with portal_on(store) as portal:
        portal.send(
            {
                "id": "q1",
                "type": "quiz.passed",
                "member": "alice",
                "occurred_at": MONDAY.isoformat(),
            }
        )
        browser = portal.browser("alice")
        refused = browser.post(
            "/portal/next/dismiss", data={"candidate": "action:quiz_passed"}, follow_redirects=False
        )
        assert refused.status_code == 401 and "out of date" in refused.text, refused.text


HELD_OUT = DEMO_SOURCE.rstrip("\n") + (
    "\nexperiments:\n"
    "  - key: recs\n"
    "    name: Recommendations on or off\n"
    "    covers: {recommendations: true}\n"
    "    starts: 2026-01-01\n"
    "    ends: 2026-12-31\n"
)


def member_in(want: str) -> str:
    """A member id the hash puts in ``want`` of the experiment 'recs'."""
    experiment = compile_program(load_program(HELD_OUT)).experiments["recs"]
    return next(f"m{i}" for i in range(1000) if arm_of(experiment, f"m{i}") == want)


def test_the_control_arm_of_an_experiment_covering_recommendations_sees_no_section(store):
    with portal_on(store) as portal:
        publish_demo(store, HELD_OUT)
        control, treated = member_in(CONTROL), member_in(TREATMENT)
        for who in (control, treated):
            portal.send(
                {
                    "id": f"q-{who}",
                    "type": "quiz.passed",
                    "member": who,
                    "occurred_at": MONDAY.isoformat(),
                }
            )
        hidden = portal.browser(control).get("/portal/")
        assert hidden.status_code == 200, hidden.text
        assert 'id="recommended"' not in hidden.text
        shown = portal.browser(treated).get("/portal/")
        assert 'id="recommended"' in shown.text
