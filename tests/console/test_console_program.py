"""The program pages: versions with their release records, the rule changes between two, the
draft editor (errors at their path and line, nothing stored), the simulation of a draft, and an
admin's publish and rollback, each an audit row naming them. Viewers and operators see no
Publish or Rollback button, and the endpoints refuse them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accolade.service.audit import list_audit
from accolade.service.programs import add_draft, versions
from tests.console.builders import console_on, csrf_of
from tests.integration.builders import DEMO_SOURCE

QUIZ_POINTS = "    points: 100\n"  # actions[2] of the demo program: quiz_passed
BROKEN = DEMO_SOURCE.replace(QUIZ_POINTS, "    points: lots\n", 1)
RAISED = DEMO_SOURCE.replace(QUIZ_POINTS, "    points: 150\n", 1)
BROKEN_LINE = DEMO_SOURCE[: DEMO_SOURCE.index(QUIZ_POINTS)].count("\n") + 1


@pytest.fixture
def console(store):
    with console_on(store) as console:
        yield console


def browser(console, role, email=None):
    """A browser signed in as a new user of ``role``, looking at program 'partner'."""
    client = console.browser(role, email)
    switched = client.get("/console/switch", params={"program": "partner"}, follow_redirects=False)
    assert switched.status_code == 303, switched.text
    return client


def form(client, path, data, page="/console/program/draft"):
    """``data`` posted to ``path`` with the CSRF token of ``page``."""
    token = csrf_of(client.get(page).text)
    return client.post(path, data={**data, "csrf": token}, follow_redirects=False)


def send_quizzes(console, *members):
    key = console.api.key("events:write")
    at = console.api.clock.now - timedelta(days=1)
    events = [
        {
            "id": f"{m}-quiz",
            "type": "quiz.passed",
            "member": m,
            "occurred_at": at.isoformat(),
            "properties": {"quiz": "core", "score": 90},
        }
        for m in members
    ]
    sent = console.api.client.post("/v1/events", json=events, headers=key)
    assert sent.status_code == 200, sent.text


def program_actions(console):
    return [
        (e.actor, e.action, e.before, e.after)
        for e in list_audit(console.api.store, "partner").entries
        if e.action.startswith("program.")
    ][::-1]


def test_the_program_page_lists_versions_with_their_release_record(console):
    viewer = browser(console, "viewer")

    shown = viewer.get("/console/program")

    assert shown.status_code == 200, shown.text
    assert 'id="version-1"' in shown.text
    assert "<strong>active</strong>" in shown.text
    assert "Compare two versions" in shown.text


def test_the_diff_of_two_versions_is_in_words(console):
    version, _ = add_draft(console.api.store, "partner", RAISED, console.api.clock)
    viewer = browser(console, "viewer")

    shown = viewer.get(f"/console/program?from=1&to={version}")

    assert shown.status_code == 200, shown.text
    assert "From version 1 to version 2" in shown.text
    assert "quiz_passed" in shown.text and "150" in shown.text


def test_a_diff_with_an_unknown_version_is_404(console):
    viewer = browser(console, "viewer")

    shown = viewer.get("/console/program?from=1&to=9")

    assert shown.status_code == 404
    assert "has no version 9" in shown.text


def test_the_editor_opens_with_the_active_version_then_the_newest_draft(console):
    viewer = browser(console, "viewer")
    assert "Opened from the active version 1." in viewer.get("/console/program/draft").text

    add_draft(console.api.store, "partner", RAISED, console.api.clock)
    opened = viewer.get("/console/program/draft").text

    assert "Opened from draft version 2." in opened
    assert "points: 150" in opened


def test_validation_errors_are_listed_at_their_path_and_line_with_422(console):
    viewer = browser(console, "viewer")

    checked = form(viewer, "/console/program/draft/validate", {"source": BROKEN})

    assert checked.status_code == 422
    assert '<code class="path">actions[2].points</code>' in checked.text
    assert f"line {BROKEN_LINE}</span>: must be a whole number" in checked.text
    assert "points: lots" in checked.text  # the text is kept to be fixed


def test_a_yaml_syntax_error_names_its_line(console):
    viewer = browser(console, "viewer")

    checked = form(viewer, "/console/program/draft/validate", {"source": "key: [partner\n"})

    assert checked.status_code == 422
    assert "not valid YAML" in checked.text


def test_a_valid_draft_shows_its_changes_from_the_active_version(console):
    viewer = browser(console, "viewer")

    checked = form(viewer, "/console/program/draft/validate", {"source": RAISED})

    assert checked.status_code == 200, checked.text
    assert "The draft is a valid program file." in checked.text
    assert "Changes from the active version 1" in checked.text
    assert [v.version for v in versions(console.api.store, "partner")] == [1]


def test_the_live_check_answers_errors_with_path_and_line(console):
    viewer = browser(console, "viewer")

    checked = form(viewer, "/console/program/draft/validate.json", {"source": BROKEN})

    assert checked.status_code == 200, checked.text
    answer = checked.json()
    assert answer["valid"] is False
    assert {k: answer["problems"][0][k] for k in ("path", "line")} == {
        "path": "actions[2].points",
        "line": BROKEN_LINE,
    }
    fine = form(viewer, "/console/program/draft/validate.json", {"source": RAISED})
    assert fine.json() == {"valid": True, "problems": []}


def test_saving_an_invalid_draft_stores_nothing(console):
    admin = browser(console, "admin")

    refused = form(admin, "/console/program/draft/save", {"source": BROKEN})

    assert refused.status_code == 422
    assert "actions[2].points" in refused.text
    assert [v.version for v in versions(console.api.store, "partner")] == [1]
    assert program_actions(console) == []


def test_a_draft_of_another_program_is_refused_naming_the_key(console):
    admin = browser(console, "admin")
    other = RAISED.replace("key: partner", "key: community", 1)

    refused = form(admin, "/console/program/draft/save", {"source": other})

    assert refused.status_code == 422
    assert "<strong>key</strong>" in refused.text


def test_an_admin_saves_a_draft_and_the_log_names_them(console):
    admin = browser(console, "admin", "ana@example.com")

    saved = form(admin, "/console/program/draft/save", {"source": RAISED})

    assert saved.status_code == 303, saved.text
    assert "The draft was saved." in admin.get(saved.headers["location"]).text
    assert [(v.version, v.active) for v in versions(console.api.store, "partner")] == [
        (1, True),
        (2, False),
    ]
    actor, action, _, after = program_actions(console)[0]
    assert (actor, action, after["version"]) == ("ana@example.com", "program.draft_saved", 2)


def test_the_simulation_shows_points_per_rule_and_liability(console):
    send_quizzes(console, "amy", "ben")
    admin = browser(console, "admin")

    simulated = form(admin, "/console/program/draft/simulate", {"source": RAISED})

    assert simulated.status_code == 200, simulated.text
    assert "Simulation over the event log" in simulated.text
    assert "Points per rule" in simulated.text
    assert "action:quiz_passed" in simulated.text
    assert "+100" in simulated.text  # two quizzes, 50 more points each
    assert "Points and liability" in simulated.text
    assert [v.version for v in versions(console.api.store, "partner")] == [1]


def test_an_invalid_draft_is_not_simulated(console):
    admin = browser(console, "admin")

    refused = form(admin, "/console/program/draft/simulate", {"source": BROKEN})

    assert refused.status_code == 422
    assert "actions[2].points" in refused.text
    assert "Simulation over the event log" not in refused.text


def test_an_admin_publishes_a_draft_with_notes_and_rolls_back_both_audited(console):
    version, _ = add_draft(console.api.store, "partner", RAISED, console.api.clock)
    admin = browser(console, "admin", "ana@example.com")

    published = form(
        admin,
        "/console/program/publish",
        {"version": str(version), "notes": "Quizzes are worth more", "approved_by": ""},
        page="/console/program",
    )
    assert published.status_code == 303, published.text
    shown = admin.get(published.headers["location"]).text
    assert "The version was published" in shown
    assert "Quizzes are worth more" in shown
    active = next(v for v in versions(console.api.store, "partner") if v.active)
    assert (active.version, active.approved_by) == (2, "ana@example.com")

    rolled = form(
        admin,
        "/console/program/rollback",
        {"to": "1", "notes": "Too generous", "approved_by": "bo@example.com"},
        page="/console/program",
    )
    assert rolled.status_code == 303, rolled.text
    active = next(v for v in versions(console.api.store, "partner") if v.active)
    assert (active.version, active.action, active.approved_by) == (1, "rollback", "bo@example.com")

    assert program_actions(console) == [
        (
            "ana@example.com",
            "program.published",
            {"version": 1},
            {"version": 2, "notes": "Quizzes are worth more", "approved_by": "ana@example.com"},
        ),
        (
            "ana@example.com",
            "program.rolled_back",
            {"version": 2},
            {"version": 1, "notes": "Too generous", "approved_by": "bo@example.com"},
        ),
    ]


def test_publishing_the_active_version_is_a_conflict_and_writes_nothing(console):
    admin = browser(console, "admin")

    refused = form(
        admin, "/console/program/publish", {"version": "1", "notes": ""}, page="/console/program"
    )

    assert refused.status_code == 409
    assert "already active" in refused.text
    assert program_actions(console) == []


def test_with_simulation_required_the_refusal_points_to_the_simulate_button(store):
    with console_on(store, publish_requires_simulation=True) as console:
        version, _ = add_draft(console.api.store, "partner", RAISED, console.api.clock)
        admin = browser(console, "admin")
        publish = {"version": str(version), "notes": ""}

        refused = form(admin, "/console/program/publish", publish, page="/console/program")

        assert refused.status_code == 409, refused.text
        assert "was never simulated" in refused.text
        assert "the Simulate button on the draft page" in refused.text
        assert "accolade program simulate" not in refused.text
        assert [v.version for v in versions(console.api.store, "partner") if v.active] == [1]

        simulated = form(admin, "/console/program/draft/simulate", {"source": RAISED})
        assert simulated.status_code == 200, simulated.text
        published = form(admin, "/console/program/publish", publish, page="/console/program")
        assert published.status_code == 303, published.text


def test_rolling_back_with_no_earlier_release_is_a_conflict(console):
    admin = browser(console, "admin")

    refused = form(admin, "/console/program/rollback", {"notes": ""}, page="/console/program")

    assert refused.status_code == 409
    assert "no earlier version" in refused.text


def test_too_long_notes_are_refused_naming_the_field(console):
    version, _ = add_draft(console.api.store, "partner", RAISED, console.api.clock)
    admin = browser(console, "admin")

    refused = form(
        admin,
        "/console/program/publish",
        {"version": str(version), "notes": "x" * 2001},
        page="/console/program",
    )

    assert refused.status_code == 422
    assert [v.active for v in versions(console.api.store, "partner")] == [True, False]


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_a_lesser_role_sees_no_release_buttons_and_is_refused(console, role):
    add_draft(console.api.store, "partner", RAISED, console.api.clock)
    client = browser(console, role)

    shown = client.get("/console/program").text
    editor = client.get("/console/program/draft").text

    assert "Publish" not in shown and "Roll back" not in shown
    assert "Save draft" not in editor and "Simulate" not in editor
    for path, data in [
        ("/console/program/publish", {"version": "2"}),
        ("/console/program/rollback", {"to": "1"}),
        ("/console/program/draft/save", {"source": RAISED}),
        ("/console/program/draft/simulate", {"source": RAISED}),
    ]:
        refused = form(client, path, data)
        assert refused.status_code == 403, path
    assert [v.active for v in versions(console.api.store, "partner")] == [True, False]
    assert program_actions(console) == []


def test_a_form_without_its_csrf_token_is_refused(console):
    admin = browser(console, "admin")

    refused = admin.post("/console/program/draft/save", data={"source": RAISED})

    assert refused.status_code == 401  # as any form without it (the session tests)
    assert [v.version for v in versions(console.api.store, "partner")] == [1]


def test_a_draft_and_a_publish_through_the_api_are_audited_as_the_key(console):
    headers = console.api.key("program:admin")
    drafted = console.api.client.post(
        "/v1/program/versions",
        content=RAISED,
        headers={**headers, "Content-Type": "application/yaml"},
    )
    assert drafted.status_code == 201, drafted.text
    published = console.api.client.post("/v1/program/versions/2/publish", headers=headers)
    assert published.status_code == 200, published.text

    found = program_actions(console)

    assert [action for _, action, _, _ in found] == ["program.draft_saved", "program.published"]
    assert all(actor.startswith("api key ") for actor, _, _, _ in found), found
