"""Replay rebuilds every derived figure from the log, bit for bit; balances equal the ledger."""

from __future__ import annotations

from datetime import timedelta

from accolade.sample_events import generate_events
from accolade.service.ingest import ingest
from accolade.service.replay import replay
from accolade.service.reverse import reverse
from accolade.store.unit_of_work import Store

from .builders import (
    MONDAY,
    PROGRAM,
    assert_balances_match_ledger,
    clock_at,
    deal,
    lead,
    projection,
    publish_demo,
    quizzes,
    send,
)

LATER = MONDAY + timedelta(days=200)


def ingest_sample(store: Store, n_events: int = 400, n_members: int = 15) -> list[dict]:
    stream = list(generate_events(n_events, n_members, seed=5, duplicates=0.05))
    ingest(store, PROGRAM, enumerate(stream, start=1), chunk_size=64, clock=clock_at())
    return stream


def reverse_some(store: Store, stream: list[dict], every: int = 17) -> list[str]:
    """Reverse every ``every``-th distinct event, leads and deals first (they move tiers)."""
    ids = list(dict.fromkeys(e["id"] for e in stream))
    chosen = [e["id"] for e in stream if e["type"] in ("lead.registered", "deal.won")][:6]
    chosen += [i for i in ids[::every] if i not in chosen]
    for event_id in chosen:
        reverse(store, PROGRAM, event_id, "audit", clock=clock_at(LATER))
    return chosen


def test_balances_equal_the_ledger_after_ingest(store: Store) -> None:
    publish_demo(store)

    ingest_sample(store)

    assert_balances_match_ledger(store)


def test_balances_equal_the_ledger_after_reversals(store: Store) -> None:
    publish_demo(store)
    stream = ingest_sample(store)

    reverse_some(store, stream)

    assert_balances_match_ledger(store)


def test_balances_equal_the_ledger_after_replay(store: Store) -> None:
    publish_demo(store)
    stream = ingest_sample(store)
    reverse_some(store, stream)

    replay(store, PROGRAM, clock=clock_at(LATER))

    assert_balances_match_ledger(store)


def test_replay_rebuilds_the_same_members_badges_and_ledger(store: Store) -> None:
    publish_demo(store)
    ingest_sample(store)
    before = projection(store)

    report = replay(store, PROGRAM, chunk_size=50, clock=clock_at(LATER))

    assert projection(store) == before
    assert report.members == len(before["members"])
    assert report.reversals == 0
    assert any(before["badges"].values()), "the sample should earn some badges"


def test_replay_after_reversals_rebuilds_the_same_state(store: Store) -> None:
    publish_demo(store)
    stream = ingest_sample(store)
    reversed_ids = reverse_some(store, stream)
    before = projection(store)

    report = replay(store, PROGRAM, chunk_size=50, clock=clock_at(LATER))

    assert report.reversals == len(reversed_ids)
    assert projection(store) == before


def test_replay_after_a_reversal_that_dropped_a_tier(store: Store) -> None:
    publish_demo(store)
    send(store, lead("lead-1"), *quizzes(45, start=MONDAY + timedelta(hours=1)))
    send(store, deal("deal-1", at=MONDAY + timedelta(days=5)))
    reverse(store, PROGRAM, "lead-1", "disqualified", clock=clock_at(LATER))
    before = projection(store)

    replay(store, PROGRAM, clock=clock_at(LATER))

    assert projection(store) == before
    alice = before["members"]["alice"]
    # 45 quizzes and the deal's 100 points: 4,600, under Silver's 5,000.
    assert (alice["lifetime"], alice["tier"]) == (4600, "bronze")
    assert [b for b, _, _ in before["badges"]["alice"]] == ["certified_user", "product_expert"]


def test_replaying_twice_is_the_same_as_replaying_once(store: Store) -> None:
    publish_demo(store)
    stream = ingest_sample(store, 150, 6)
    reverse_some(store, stream, every=11)
    replay(store, PROGRAM, clock=clock_at(LATER))
    once = projection(store)

    replay(store, PROGRAM, clock=clock_at(LATER))

    assert projection(store) == once
