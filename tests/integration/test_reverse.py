"""Reversal leaves the member as if the event had never arrived, with entries saying why."""

from __future__ import annotations

from datetime import timedelta

from accolade.service.reverse import reverse
from accolade.store.unit_of_work import Store

from .builders import (
    MONDAY,
    PROGRAM,
    badges_of,
    clock_at,
    deal,
    lead,
    ledger_of,
    ledger_sums,
    member_row,
    publish_demo,
    quiz,
    row_counts,
    send,
    video,
)

LATER = MONDAY + timedelta(days=10)


def test_reversal_revokes_a_badge_that_depended_on_the_event(store: Store) -> None:
    publish_demo(store)
    send(store, lead("lead-1"), deal("deal-1", at=MONDAY + timedelta(hours=1)))
    assert ("deal_maker", "", "deal-1") in badges_of(store, "alice")

    reverse(store, PROGRAM, "deal-1", "deal cancelled", clock=clock_at(LATER))

    assert [b for b, _, _ in badges_of(store, "alice")] == []
    revoked = [line for line in ledger_of(store, "alice") if line.kind == "badge_revoked"]
    assert [(line.rule, line.cause) for line in revoked] == [
        ("badge:deal_maker", "reversal:deal-1")
    ]
    assert "deal cancelled" in revoked[0].reason
    row = member_row(store, "alice")
    assert (row.lifetime, row.balance) == (500, 500)
    assert ledger_sums(store, "alice") == (500, 500)


def test_reversing_the_only_certification_revokes_certified_user(store: Store) -> None:
    publish_demo(store)
    send(store, quiz("q-1"))
    assert badges_of(store, "alice") == [("certified_user", "", "q-1")]

    reverse(store, PROGRAM, "q-1", "cheated", clock=clock_at(LATER))

    assert badges_of(store, "alice") == []
    assert "certified_user" not in member_row(store, "alice").progress
    assert member_row(store, "alice").lifetime == 0


def test_a_badge_still_earned_by_another_event_is_kept(store: Store) -> None:
    publish_demo(store)
    send(store, quiz("q-1"), quiz("q-2", at=MONDAY + timedelta(hours=2)))

    reverse(store, PROGRAM, "q-1", "cheated", clock=clock_at(LATER))

    assert [(b, p) for b, p, _ in badges_of(store, "alice")] == [("certified_user", "")]
    assert not [line for line in ledger_of(store, "alice") if line.kind == "badge_revoked"]
    assert member_row(store, "alice").lifetime == 100


def test_reversing_a_counted_video_lets_the_capped_one_earn(store: Store) -> None:
    publish_demo(store)
    six = [video(f"v-{i}", at=MONDAY + timedelta(minutes=10 * i)) for i in range(6)]
    send(store, *six)

    result = reverse(store, PROGRAM, "v-0", "bot traffic", clock=clock_at(LATER))

    assert result["points"] == 0
    row = member_row(store, "alice")
    assert (row.lifetime, row.balance) == (50, 50)
    moved = [
        (line.event_id, line.kind, line.points)
        for line in ledger_of(store, "alice")
        if line.cause == "reversal:v-0"
    ]
    assert moved == [("v-0", "reversal", -10), ("v-5", "adjustment", 10)]


def test_reversal_marks_the_event_reversed_and_logs_the_reversal(store: Store) -> None:
    publish_demo(store)
    send(store, quiz("q-1"))
    before = row_counts(store)

    reverse(store, PROGRAM, "q-1", "cheated", clock=clock_at(LATER))

    after = row_counts(store)
    assert after["events"] == before["events"] + 1
    assert after["members"] == before["members"]
    with store.transaction() as repo:
        program_id = repo.program_by_key(PROGRAM).id
        original = repo.event_row(program_id, "event", "q-1")
        reversal = repo.event_row(program_id, "reversal", "q-1")
    assert reversal is not None and original.reversed_by == reversal.id
    assert reversal.member_id == original.member_id


def test_a_reversed_event_sent_again_is_still_a_duplicate(store: Store) -> None:
    publish_demo(store)
    [first] = send(store, quiz("q-1"))
    reverse(store, PROGRAM, "q-1", "cheated", clock=clock_at(LATER))
    before = row_counts(store)

    [again] = send(store, quiz("q-1"))

    assert again.status.value == "duplicate"
    assert again.result["first"] == first.result
    assert row_counts(store) == before
    assert member_row(store, "alice").lifetime == 0
