"""What a member sees: show and explain, every point traced to its event, rule and version."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from accolade.errors import Conflict, InvalidEvent, NotFound
from accolade.service.members import explain, show, table, update
from accolade.service.programs import rollback
from accolade.service.reverse import reverse
from accolade.store.unit_of_work import Store

from .builders import (
    MONDAY,
    NOW,
    PROGRAM,
    clock_at,
    demo_with,
    event,
    ledger_of,
    publish_demo,
    quiz,
    row_counts,
    send,
    video,
)


def test_show_an_unknown_member_is_not_found_naming_member(store: Store) -> None:
    publish_demo(store)
    send(store, quiz("q-1"))

    with pytest.raises(NotFound) as raised:
        show(store, PROGRAM, "nobody")

    assert raised.value.field == "member"
    assert "nobody" in raised.value.message


def test_explain_an_unknown_member_is_not_found_naming_member(store: Store) -> None:
    publish_demo(store)

    with pytest.raises(NotFound) as raised:
        explain(store, PROGRAM, "nobody")

    assert raised.value.field == "member"


def test_a_member_whose_only_event_was_rejected_is_not_found(store: Store) -> None:
    publish_demo(store)
    send(store, event("e-1", "webinar.attended", member="mallory"))

    with pytest.raises(NotFound) as raised:
        show(store, PROGRAM, "mallory")

    assert raised.value.field == "member"


def test_show_gives_balance_tier_benefits_and_badges(store: Store) -> None:
    publish_demo(store)
    send(store, quiz("q-1"), video("v-1", at=MONDAY + timedelta(minutes=5)))

    view = show(store, PROGRAM, "alice")

    assert (view.member, view.balance, view.lifetime, view.tier, view.tier_name) == (
        "alice",
        110,
        110,
        "bronze",
        "Bronze",
    )
    assert view.benefits == {"standard_resources": True}
    assert (view.next_tier, view.next_tier_name, view.points_to_next_tier) == (
        "silver",
        "Silver",
        4890,
    )
    assert [(b.key, b.name) for b in view.badges] == [("certified_user", "Certified User")]
    assert [line.event_id for line in view.recent][:1] == ["v-1"]  # newest first


def test_explain_lists_every_entry_with_event_rule_and_version(store: Store) -> None:
    publish_demo(store)
    send(store, quiz("q-1"))
    publish_demo(store, demo_with("points: 100", "points: 150"))
    send(store, quiz("q-2", at=MONDAY + timedelta(hours=2)))
    reverse(store, PROGRAM, "q-1", "retake", clock=clock_at())

    lines = explain(store, PROGRAM, "alice")

    stored = ledger_of(store, "alice")
    assert len(lines) == len(stored) >= 5
    assert [(x.event_id, x.kind, x.rule, x.points, x.version, x.reason) for x in lines] == [
        (s.event_id, s.kind, s.rule, s.points, s.version, s.reason) for s in stored
    ]
    assert [(x.event_id, x.kind, x.rule, x.points, x.version) for x in lines if x.points] == [
        ("q-1", "earn", "action:quiz_passed", 100, 1),
        ("q-2", "earn", "action:quiz_passed", 150, 2),
        ("q-1", "reversal", "action:quiz_passed", -100, 2),
    ]
    assert all(x.event_type == "quiz.passed" for x in lines)
    assert sum(x.points for x in lines) == show(store, PROGRAM, "alice").balance == 150


def test_explain_is_the_same_after_a_rollback(store: Store) -> None:
    publish_demo(store)
    publish_demo(store, demo_with("points: 100", "points: 150"))
    send(store, quiz("q-1"))
    before = explain(store, PROGRAM, "alice")

    rollback(store, PROGRAM, clock=clock_at())

    assert explain(store, PROGRAM, "alice") == before
    assert [x.version for x in before] == [2] * len(before)


def test_table_orders_members_by_lifetime_points_with_their_badges(store: Store) -> None:
    publish_demo(store)
    send(
        store,
        quiz("q-1", member="bob"),
        video("v-1", member="alice"),
        event("e-1", "webinar.attended", member="mallory"),
    )

    rows = table(store, PROGRAM)

    assert [(r.member, r.lifetime, r.badges) for r in rows] == [
        ("bob", 100, ["certified_user"]),
        ("alice", 10, []),
    ]


def test_update_merges_attributes_null_clears_one_and_a_repeat_changes_nothing(
    store: Store,
) -> None:
    publish_demo(store)
    update(store, PROGRAM, "alice", attributes={"region": "EMEA", "seats": 5}, clock=clock_at())

    change: dict[str, Any] = {
        "attributes": {"seats": None, "plan": "pro"},
        "company": "acme",
        "idempotency_key": "crm-1",
    }
    view = update(store, PROGRAM, "alice", **change, clock=clock_at())
    before = row_counts(store)
    # a retry a minute later: the same change, so nothing changes
    again = update(store, PROGRAM, "alice", **change, clock=clock_at(NOW + timedelta(minutes=1)))
    with pytest.raises(Conflict):  # the same key for another change
        update(store, PROGRAM, "alice", attributes={"plan": "max"}, idempotency_key="crm-1")

    assert view.attributes == {"region": "EMEA", "seats": None, "plan": "pro"}  # cleared
    assert again.attributes == view.attributes
    assert row_counts(store) == before


def test_update_with_an_unstorable_attribute_is_refused_naming_it(store: Store) -> None:
    publish_demo(store)
    before = row_counts(store)

    with pytest.raises(InvalidEvent) as raised:
        update(store, PROGRAM, "alice", attributes={"region": "a\x00"}, clock=clock_at())

    assert raised.value.field == "attributes.region"
    assert row_counts(store) == before
