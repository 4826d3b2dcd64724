"""The seed article's scenarios, end to end through the services on the demo program."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accolade.errors import Conflict, InvalidInput, NotFound
from accolade.service.members import show
from accolade.service.reverse import reverse
from accolade.store.unit_of_work import Store

from .builders import (
    MONDAY,
    PROGRAM,
    clock_at,
    lead,
    ledger_of,
    ledger_sums,
    member_row,
    publish_demo,
    quizzes,
    row_counts,
    send,
    statuses,
    video,
)

LATER = MONDAY + timedelta(days=10)


def silver_member(store: Store) -> None:
    """One qualified lead (500) and 45 certifications (45 x 100): exactly 5,000 points."""
    send(store, lead("lead-1"), *quizzes(45, start=MONDAY + timedelta(hours=1)))


def test_six_videos_in_one_day_earn_fifty_points_under_a_cap_of_five(store: Store) -> None:
    publish_demo(store)
    six = [video(f"v-{i}", at=MONDAY + timedelta(minutes=10 * i)) for i in range(6)]

    outcomes = send(store, *six)

    assert statuses(outcomes) == ["accepted"] * 5 + ["limited"]
    assert outcomes[5].result["points"] == 0
    row = member_row(store, "alice")
    assert (row.lifetime, row.balance) == (50, 50)
    limited = [line for line in ledger_of(store, "alice") if line.kind == "limited"]
    assert [(line.event_id, line.rule, line.points) for line in limited] == [
        ("v-5", "action:video_watched", 0)
    ]
    assert "cap" in limited[0].reason


def test_the_cap_opens_again_the_next_day(store: Store) -> None:
    publish_demo(store)
    six = [video(f"v-{i}", at=MONDAY + timedelta(minutes=10 * i)) for i in range(6)]
    send(store, *six)

    [next_day] = send(store, video("v-next", at=MONDAY + timedelta(days=1)))

    assert next_day.status.value == "accepted"
    assert member_row(store, "alice").lifetime == 60


def test_a_lead_and_45_certifications_reach_silver_at_exactly_5000(store: Store) -> None:
    publish_demo(store)

    silver_member(store)

    row = member_row(store, "alice")
    assert (row.lifetime, row.balance, row.tier) == (5000, 5000, "silver")
    tiers = [line for line in ledger_of(store, "alice") if line.kind == "tier"]
    assert [line.rule for line in tiers] == ["tier:bronze", "tier:silver"]
    assert tiers[-1].event_id == "quiz-44"
    assert "5,000" in tiers[-1].reason
    view = show(store, PROGRAM, "alice")
    assert (
        view.tier,
        view.tier_name,
        view.next_tier,
        view.next_tier_name,
        view.points_to_next_tier,
    ) == ("silver", "Silver", "gold", "Gold", 15_000)


def test_one_certification_short_stays_bronze(store: Store) -> None:
    publish_demo(store)

    send(store, lead("lead-1"), *quizzes(44, start=MONDAY + timedelta(hours=1)))

    row = member_row(store, "alice")
    assert (row.lifetime, row.tier) == (4900, "bronze")


def test_reversing_the_lead_goes_back_to_bronze_with_a_tier_entry_naming_it(
    store: Store,
) -> None:
    publish_demo(store)
    silver_member(store)

    result = reverse(store, PROGRAM, "lead-1", "lead disqualified by CRM", clock=clock_at(LATER))

    assert result["status"] == "reversed"
    assert result["points"] == -500
    row = member_row(store, "alice")
    assert (row.lifetime, row.balance, row.tier) == (4500, 4500, "bronze")
    assert ledger_sums(store, "alice") == (4500, 4500)
    last_tier = [line for line in ledger_of(store, "alice") if line.kind == "tier"][-1]
    assert last_tier.rule == "tier:bronze"
    assert "reversal" in last_tier.reason
    assert "lead-1" in last_tier.reason
    assert "lead disqualified by CRM" in last_tier.reason
    reversal = [line for line in ledger_of(store, "alice") if line.kind == "reversal"]
    assert [(line.event_id, line.rule, line.points, line.cause) for line in reversal] == [
        ("lead-1", "action:lead_registered", -500, "reversal:lead-1")
    ]


def test_the_same_reversal_again_returns_the_first_result_and_writes_nothing(store: Store) -> None:
    publish_demo(store)
    silver_member(store)
    first = reverse(store, PROGRAM, "lead-1", "lead disqualified", clock=clock_at(LATER))
    before = row_counts(store)

    again = reverse(store, PROGRAM, "lead-1", "  lead disqualified ", clock=clock_at(LATER))

    assert again == {"status": "duplicate", "first": first}
    assert row_counts(store) == before


def test_reversing_again_for_another_reason_is_a_conflict(store: Store) -> None:
    publish_demo(store)
    silver_member(store)
    reverse(store, PROGRAM, "lead-1", "lead disqualified", clock=clock_at(LATER))
    before = row_counts(store)

    with pytest.raises(Conflict) as raised:
        reverse(store, PROGRAM, "lead-1", "fraud", clock=clock_at(LATER))

    assert raised.value.field == "event_id"
    assert row_counts(store) == before


def test_reversing_an_unknown_event_is_not_found(store: Store) -> None:
    publish_demo(store)
    silver_member(store)

    with pytest.raises(NotFound) as raised:
        reverse(store, PROGRAM, "lead-404", "typo", clock=clock_at(LATER))

    assert raised.value.field == "event_id"


def test_a_reversal_needs_a_reason(store: Store) -> None:
    publish_demo(store)
    silver_member(store)
    before = row_counts(store)

    with pytest.raises(InvalidInput) as raised:
        reverse(store, PROGRAM, "lead-1", "   ", clock=clock_at(LATER))

    assert raised.value.field == "reason"
    assert row_counts(store) == before
