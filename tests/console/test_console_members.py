"""The members pages: search by id, name, attribute, tier and stage; a member's view with the
raw ledger, each entry explained; an operator adjusts points and reverses events with a reason,
each an audit row naming them. A viewer sees no button, and the endpoints refuse them; bad
input is shown beside its field and stores nothing."""

from __future__ import annotations

import re

import pytest

from accolade.service import members as members_service
from accolade.service.audit import list_audit
from accolade.service.replay import replay
from tests.console.builders import console_on, post
from tests.integration.builders import quiz, send, video


@pytest.fixture
def console(store):
    with console_on(store) as console:
        send(store, quiz("q-1", "alice"), video("v-1", "alice"), quiz("q-2", "bob"))
        members_service.update(
            store, "partner", "alice", attributes={"name": "Alice Archer", "region": "EMEA"}
        )
        members_service.update(
            store, "partner", "bob", attributes={"name": "Bob Baker", "region": "AMER"}
        )
        yield console


def browser(console, role, email=None):
    """A browser of a new ``role`` user, looking at the program 'partner'."""
    client = console.browser(role, email)
    client.get("/console/switch?program=partner")
    return client


def actions(console):
    return [(e.actor, e.action, e.target) for e in list_audit(console.api.store, "partner").entries]


def balance(console, member="alice"):
    return members_service.show(console.api.store, "partner", member).balance


def found_members(html):
    return re.findall(r'<a href="/console/members/([^"?/]+)">', html)


def test_search_by_id_name_attribute_and_tier(console):
    viewer = browser(console, "viewer")

    assert found_members(viewer.get("/console/members?q=ALI").text) == ["alice"]
    assert found_members(viewer.get("/console/members?q=baker").text) == ["bob"]
    assert found_members(viewer.get("/console/members?attribute=region%3DEMEA").text) == ["alice"]
    assert found_members(viewer.get("/console/members").text) == ["alice", "bob"]
    tier = members_service.show(console.api.store, "partner", "alice").tier
    by_tier = viewer.get(f"/console/members?tier={tier}").text
    assert "alice" in found_members(by_tier)


def test_a_search_with_a_bad_attribute_names_the_field(console):
    viewer = browser(console, "viewer")

    refused = viewer.get("/console/members?attribute=region")

    assert refused.status_code == 422
    assert "<strong>attribute</strong>: write it as name=value" in refused.text


def test_an_unknown_stage_finds_nobody(console):
    viewer = browser(console, "viewer")

    assert found_members(viewer.get("/console/members?stage=nowhere").text) == []


def test_a_member_page_shows_balance_and_ledger_each_entry_explained(console):
    viewer = browser(console, "viewer")

    page = viewer.get("/console/members/alice")

    assert page.status_code == 200, page.text
    assert f'id="balance">{balance(console):,}' in page.text
    entries = re.findall(r"/console/members/alice/entries/(\d+)", page.text)
    assert entries
    explained = viewer.get(f"/console/members/alice/entries/{entries[-1]}")
    assert explained.status_code == 200
    assert "q-1" in explained.text
    assert "Adjust points" not in page.text and "Reverse the event" not in page.text


def test_an_unknown_member_is_a_404_page(console):
    viewer = browser(console, "viewer")

    assert viewer.get("/console/members/nobody").status_code == 404


def test_operator_adjusts_points_explained_audited_and_replayed(console):
    operator = browser(console, "operator", "op@example.com")
    before = balance(console)

    done = post(operator, "/console/members/alice/adjust", {"points": "250", "reason": "goodwill"})

    assert done.status_code == 303, done.text
    page = operator.get(done.headers["location"]).text
    assert "The points were adjusted." in page
    assert balance(console) == before + 250
    assert actions(console)[0] == ("op@example.com", "points.adjusted", "alice")
    manual = [
        e
        for e in members_service.explain(console.api.store, "partner", "alice")
        if e.kind == "manual"
    ]
    assert [(e.points, e.reason) for e in manual] == [(250, "added by hand: goodwill")]
    explained = members_service.explain_entry(console.api.store, "partner", "alice", manual[0].id)
    assert explained.source == "manual" and explained.properties["by"] == "op@example.com"
    replay(console.api.store, "partner")
    assert balance(console) == before + 250


def test_taking_more_than_the_balance_is_refused(console):
    operator = browser(console, "operator")
    before = balance(console)

    refused = post(
        operator, "/console/members/alice/adjust", {"points": str(-before - 1), "reason": "x"}
    )

    assert refused.status_code == 409
    assert "<strong>points</strong>" in refused.text
    assert balance(console) == before


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"points": "100", "reason": " "}, "reason"),
        ({"points": "lots", "reason": "goodwill"}, "points"),
        ({"points": "0", "reason": "goodwill"}, "points"),
    ],
)
def test_bad_adjustment_is_refused_naming_the_field_and_stores_nothing(console, form, field):
    operator = browser(console, "operator")
    before = balance(console)

    refused = post(operator, "/console/members/alice/adjust", form)

    assert refused.status_code == 422
    assert f"<strong>{field}</strong>:" in refused.text
    assert balance(console) == before
    assert actions(console) == []


def test_operator_reverses_an_event_with_a_reason_audited(console):
    operator = browser(console, "operator", "op@example.com")
    before = balance(console)

    done = post(
        operator, "/console/members/alice/reverse", {"event_id": "q-1", "reason": "cheated"}
    )

    assert done.status_code == 303, done.text
    assert "The event was reversed." in operator.get(done.headers["location"]).text
    assert balance(console) < before
    assert actions(console)[0] == ("op@example.com", "event.reversed", "q-1")


def test_reversing_another_members_event_is_not_found(console):
    operator = browser(console, "operator")

    refused = post(operator, "/console/members/alice/reverse", {"event_id": "q-2", "reason": "x"})

    assert refused.status_code == 404
    assert "<strong>event_id</strong>" in refused.text
    assert actions(console) == []


def test_reversing_without_a_reason_names_the_field(console):
    operator = browser(console, "operator")

    refused = post(operator, "/console/members/alice/reverse", {"event_id": "q-1", "reason": ""})

    assert refused.status_code == 422
    assert "<strong>reason</strong>:" in refused.text


@pytest.mark.parametrize("path", ["adjust", "reverse"])
def test_a_viewer_is_refused_the_changes(console, path):
    viewer = browser(console, "viewer")
    before = balance(console)

    refused = post(
        viewer, f"/console/members/alice/{path}", {"points": "5", "event_id": "q-1", "reason": "x"}
    )

    assert refused.status_code == 403
    assert balance(console) == before
    assert actions(console) == []
