"""Points that are pending before they can be spent, and that expire when not spent in time:
first in, first out, balance only, warned ahead, once a day at most, rebuilt by replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from accolade.errors import InsufficientBalance
from accolade.service import members as members_service
from accolade.service import rewards
from accolade.service.expiry import expire_points
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.service.replay import replay
from accolade.service.reverse import reverse
from accolade.store.tables import events
from accolade.store.unit_of_work import Store
from tests.programs import program_head

from .builders import assert_balances_match_ledger, clock_at, ledger_of, member_row, projection

PROGRAM = (
    program_head("loyal", "Loyalty")
    + """
actions:
  - {key: deal, event: deal.won, points_from: {property: points, per: 1}}
rewards:
  - {key: mug, name: Mug, price: 300}
points:
  pending: 14d
  expiry: {after: 365d, warn: 30d}
"""
)
KEY = "loyal"
T0 = datetime(2026, 1, 10, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def earn(store: Store, id: str, points: int, at: datetime) -> None:
    event = {
        "id": id,
        "type": "deal.won",
        "member": "ana",
        "occurred_at": at.isoformat(),
        "properties": {"points": points},
    }
    [outcome] = ingest_batch(store, KEY, [(1, event)], clock=clock_at(at))
    assert outcome.status.value == "accepted", outcome.result


def points(store: Store) -> tuple[int, int, str | None]:
    row = member_row(store, "ana")
    return int(row.balance), int(row.lifetime), row.tier


@pytest.fixture
def loyal(store: Store) -> Store:
    publish(store, PROGRAM, clock=clock_at(T0 - DAY))
    earn(store, "d1", 1000, T0)
    return store


def test_points_are_pending_before_they_can_be_spent(loyal: Store) -> None:
    with pytest.raises(InsufficientBalance, match=r"ana can spend 0 now \(ana's balance is 1,000"):
        rewards.redeem(loyal, KEY, "ana", "mug", clock=clock_at(T0 + 5 * DAY))
    view = members_service.show(loyal, KEY, "ana", clock=clock_at(T0 + 5 * DAY))
    assert (view.balance, view.pending) == (1000, 1000)
    mine = rewards.catalogue(loyal, KEY, "ana", clock=clock_at(T0 + 5 * DAY))
    assert mine[0].reason == "needs 300 points; 0 can be spent now"
    done = rewards.redeem(loyal, KEY, "ana", "mug", clock=clock_at(T0 + 15 * DAY))
    assert done.balance == 700
    assert members_service.show(loyal, KEY, "ana", clock=clock_at(T0 + 15 * DAY)).pending == 0


def test_unspent_points_expire_oldest_first_and_never_demote(loyal: Store) -> None:
    rewards.redeem(loyal, KEY, "ana", "mug", clock=clock_at(T0 + 20 * DAY))  # 700 of d1 left
    earn(loyal, "d2", 500, T0 + 200 * DAY)
    assert expire_points(loyal, KEY, clock=clock_at(T0 + 300 * DAY)).points == 0
    done = expire_points(loyal, KEY, clock=clock_at(T0 + 370 * DAY))
    assert (done.members, done.points) == (1, 700)
    assert points(loyal) == (500, 1500, "gold")  # lifetime and tier stay
    line = ledger_of(loyal, "ana")[-1]
    assert (line.kind, line.rule, line.points, line.lifetime_points) == (
        "expiry",
        "expiry",
        -700,
        0,
    )
    assert line.reason == "700 points expired: not spent within 365 days of earning"
    # the same day again: nothing more
    assert expire_points(loyal, KEY, clock=clock_at(T0 + 370 * DAY)).points == 0
    # d2 expires at T0 + 565 days: warned within 30 days of it, once per 30-day period
    warned = expire_points(loyal, KEY, clock=clock_at(T0 + 540 * DAY))
    assert (warned.points, warned.warned) == (0, 1)
    assert expire_points(loyal, KEY, clock=clock_at(T0 + 541 * DAY)).warned == 0
    assert expire_points(loyal, KEY, clock=clock_at(T0 + 566 * DAY)).points == 500
    assert points(loyal) == (0, 1500, "gold")
    assert_balances_match_ledger(loyal)
    with loyal.engine.connect() as conn:
        kinds = [r.kind for r in conn.execute(select(events.c.kind).order_by(events.c.id))]
    assert kinds == ["event", "redemption", "event", "expiry", "warning", "expiry"]


def test_replay_rebuilds_expiries(loyal: Store) -> None:
    earn(loyal, "d2", 400, T0 + 100 * DAY)
    expire_points(loyal, KEY, clock=clock_at(T0 + 380 * DAY))
    before = projection(loyal)
    replay(loyal, KEY, clock=clock_at(T0 + 381 * DAY))
    assert projection(loyal) == before
    assert points(loyal) == (400, 1400, "gold")


def test_a_program_without_expiry_expires_nothing(store: Store) -> None:
    publish(store, PROGRAM.split("\npoints:")[0], clock=clock_at(T0 - DAY))
    earn(store, "d1", 1000, T0)
    assert expire_points(store, KEY, clock=clock_at(T0 + 999 * DAY)).points == 0
    assert points(store)[0] == 1000


def test_a_backdated_event_still_waits_out_the_pending_period(loyal: Store) -> None:
    event = {
        "id": "late",
        "type": "deal.won",
        "member": "ana",
        "occurred_at": (T0 - 90 * DAY).isoformat(),  # happened long ago, received at T0 + 30
        "properties": {"points": 500},
    }
    ingest_batch(loyal, KEY, [(1, event)], clock=clock_at(T0 + 30 * DAY))
    view = members_service.show(loyal, KEY, "ana", clock=clock_at(T0 + 31 * DAY))
    assert (view.balance, view.pending) == (1500, 500)


def test_reversing_points_that_already_expired_does_not_take_them_twice(loyal: Store) -> None:
    earn(loyal, "d2", 300, T0 + 100 * DAY)
    expire_points(loyal, KEY, clock=clock_at(T0 + 370 * DAY))  # d1's 1,000 expire
    assert points(loyal) == (300, 1300, "gold")
    reverse(loyal, KEY, "d1", "deal cancelled", clock=clock_at(T0 + 380 * DAY))
    # d1's points were gone already: the member keeps d2's 300, not 300 - 1,000
    assert points(loyal) == (300, 300, "bronze")
    line = ledger_of(loyal, "ana")[-1]
    assert (line.kind, line.points) == ("expiry", 1000)
    assert (
        line.reason == "1,000 expired points given back: the event they were earned by was reversed"
    )
    assert_balances_match_ledger(loyal)
    before = projection(loyal)
    replay(loyal, KEY, clock=clock_at(T0 + 381 * DAY))
    assert projection(loyal) == before
