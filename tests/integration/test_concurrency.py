"""Concurrent writers, each on its own connection: no lost update, no event stored twice.

PostgreSQL is where several API workers write at once (row locks per member); SQLite
serialises writers with BEGIN IMMEDIATE. Both run the same tests.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

import pytest

from accolade.service import ingest as ingest_module
from accolade.service.ingest import Outcome
from accolade.store.unit_of_work import Store, WriteConflict

from .builders import (
    MONDAY,
    deal,
    ledger_sums,
    member_row,
    member_states,
    publish_demo,
    quiz,
    row_counts,
    send,
    statuses,
    video,
)

T = TypeVar("T")
THREADS = 4
ROUNDS = 15  # a race that is lost once in a few tries shows up within these


def at_once(n: int, work: Callable[[int, threading.Barrier], T]) -> list[T]:
    """Run ``work(i, barrier)`` in ``n`` threads; the barrier lines their writes up."""
    barrier = threading.Barrier(n, timeout=60)
    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(work, i, barrier) for i in range(n)]
        return [f.result(timeout=120) for f in futures]


def test_concurrent_batches_for_one_member_lose_no_update(store: Store) -> None:
    publish_demo(store)
    batches, per_batch = 5, 6

    def writer(i: int, barrier: threading.Barrier) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for b in range(batches):
            sent = [
                deal(
                    f"t{i}-b{b}-{k}",
                    at=MONDAY + timedelta(minutes=i * 100 + b * 10 + k),
                    amount_usd=1_000 * (i + k + 1),
                )
                for k in range(per_batch)
            ]
            barrier.wait()
            outcomes += send(store, *sent)
        return outcomes

    outcomes = [o for per_thread in at_once(THREADS, writer) for o in per_thread]

    assert set(statuses(outcomes)) == {"accepted"}
    earned = sum(int(o.result["points"]) for o in outcomes)
    row = member_row(store, "alice")
    assert row.lifetime == earned == row.balance
    assert ledger_sums(store, "alice") == (earned, earned)
    assert row_counts(store)["events"] == THREADS * batches * per_batch
    assert row_counts(store)["members"] == 1


def test_concurrent_single_events_for_one_member_lose_no_update(store: Store) -> None:
    publish_demo(store)

    def writer(i: int, barrier: threading.Barrier) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for k in range(10):
            barrier.wait()
            outcomes += send(
                store, quiz(f"q-{i}-{k}", at=MONDAY + timedelta(hours=2 * (10 * i + k)))
            )
        return outcomes

    outcomes = [o for per_thread in at_once(THREADS, writer) for o in per_thread]

    assert set(statuses(outcomes)) == {"accepted"}
    row = member_row(store, "alice")
    assert row.lifetime == THREADS * 10 * 100 == sum(o.result["points"] for o in outcomes)
    assert ledger_sums(store, "alice") == (row.balance, row.lifetime)


def test_the_same_event_sent_concurrently_is_stored_once(store: Store) -> None:
    publish_demo(store)

    def writer(_: int, barrier: threading.Barrier) -> list[Outcome]:
        barrier.wait()
        return send(store, quiz("q-1"))

    outcomes = [o for per_thread in at_once(THREADS, writer) for o in per_thread]

    assert sorted(statuses(outcomes)) == ["accepted"] + ["duplicate"] * (THREADS - 1)
    assert row_counts(store)["events"] == 1
    row = member_row(store, "alice")
    assert (row.lifetime, row.balance) == (100, 100)
    assert ledger_sums(store, "alice") == (100, 100)


def test_one_event_id_sent_concurrently_for_two_members_is_a_conflict_not_an_error(
    store: Store,
) -> None:
    """The sender reused an id for another member: the later one is rejected (Conflict on
    'id'), the rest of its batch is stored. Raced several times: the window is small."""
    publish_demo(store)

    for r in range(ROUNDS):

        def writer(i: int, barrier: threading.Barrier, r: int = r) -> list[Outcome]:
            member = f"member-{r}-{i}"
            sent = [quiz(f"q-{r}", member=member), video(f"v-{r}-{i}", member=member)]
            barrier.wait()
            return send(store, *sent)

        outcomes = [o for per_thread in at_once(2, writer) for o in per_thread]

        shared = sorted(o.status.value for o in outcomes if o.event_id == f"q-{r}")
        assert shared == ["accepted", "rejected"], f"round {r}"
        [conflict] = [o for o in outcomes if o.status.value == "rejected"]
        assert conflict.error is not None and conflict.error.field == "id"
        assert statuses(o for o in outcomes if o.event_id != f"q-{r}") == ["accepted"] * 2
    assert row_counts(store)["events"] == 3 * ROUNDS


def test_concurrent_batches_creating_the_same_new_members_in_any_order_all_succeed(
    store: Store,
) -> None:
    publish_demo(store)

    for r in range(5):
        names = [f"new-{r}-{n:03d}" for n in range(1000)]

        def writer(i: int, barrier: threading.Barrier, names: list[str] = names) -> list[Outcome]:
            order = names if i % 2 == 0 else names[::-1]
            sent = [
                video(f"v-{i}-{name}", member=name, at=MONDAY + timedelta(minutes=i))
                for name in order
            ]
            barrier.wait()
            return send(store, *sent)

        outcomes = [o for per_thread in at_once(2, writer) for o in per_thread]

        assert set(statuses(outcomes)) == {"accepted"}, f"round {r}"
        lifetimes = {m: state[0] for m, state in member_states(store).items() if m in names}
        assert lifetimes == dict.fromkeys(names, 20)
    assert row_counts(store)["members"] == 1000 * 5


def test_concurrent_batches_of_known_and_new_members_never_deadlock(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches that share some members already stored and some not yet created take their
    locks in one order, so none waits in a cycle: no deadlock to break and retry (PostgreSQL
    breaks one only after a second)."""
    publish_demo(store)
    retried: list[str] = []
    once = ingest_module._ingest_once

    def counting(*args: Any, **kwargs: Any) -> list[Outcome]:
        try:
            return once(*args, **kwargs)
        except WriteConflict as exc:
            retried.append(str(exc).splitlines()[0])
            raise

    monkeypatch.setattr(ingest_module, "_ingest_once", counting)
    pick = random.Random(7)

    def writer(i: int, barrier: threading.Barrier) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for b in range(ROUNDS):
            # members of earlier rounds (known by now) and of this round (new to everyone)
            names = pick.sample(range(40 * (b + 1)), 30)
            sent = [
                video(f"v-{i}-{b}-{n}", member=f"m-{n:04d}", at=MONDAY + timedelta(minutes=b))
                for n in names
            ]
            barrier.wait()
            outcomes += send(store, *sent)
        return outcomes

    outcomes = [o for per_thread in at_once(THREADS, writer) for o in per_thread]

    assert set(statuses(outcomes)) <= {"accepted", "limited"}  # videos have a daily cap
    assert len(outcomes) == THREADS * ROUNDS * 30
    assert retried == []
