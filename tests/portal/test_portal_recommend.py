"""The portal's "Next best things for you": the member's recommendations with their reasons,
and a "Not now" button that dismisses one (logged) and takes it off the list."""

from __future__ import annotations

from tests.integration.builders import MONDAY
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
