"""Challenges through the store: closing pays once and records winners; stats; replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from accolade.errors import Conflict
from accolade.service import members as members_service
from accolade.service.challenges import close, stats
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.service.replay import replay
from accolade.store.unit_of_work import Store

from .builders import clock_at, projection, publish_demo, row_counts

PROGRAM = """
key: advocates
name: Advocates
timezone: America/New_York
actions:
  - {key: story_submitted, event: story.submitted, points: 100}
  - {key: deal_won, event: deal.won}
challenges:
  - key: story_q3
    name: Submit a customer story this quarter
    starts: 2026-07-01
    ends: 2026-09-30
    goal: {action: story_submitted}
    segment: [{attribute: role, eq: advocate}]
    reward: {points: 500}
  - key: pipeline
    name: Top pipeline in August
    starts: 2026-08-01
    ends: 2026-08-31
    goal: {action: deal_won, sum: amount, target: 10000}
    award: {top: 2}
    reward: {points: 1000}
"""
AUG = datetime(2026, 8, 3, 15, tzinfo=UTC)
AFTER_AUGUST = datetime(2026, 9, 5, 12, tzinfo=UTC)


def ev(id, type, member, at, attributes=None, **properties):
    out = {"id": id, "type": type, "member": member, "occurred_at": at.isoformat()}
    if properties:
        out["properties"] = properties
    if attributes:
        out["attributes"] = attributes
    return out


def send(store: Store, *events, reserved: bool = False):
    return ingest_batch(
        store, "advocates", list(enumerate(events, 1)), clock=clock_at(), reserved=reserved
    )


def deals(store: Store) -> None:
    """a: 30k, b: 20k then 10k (30k, later than a), c: 25k, d: 5k (below the goal)."""
    send(
        store,
        ev("a1", "deal.won", "a", AUG, amount=30_000),
        ev("b1", "deal.won", "b", AUG, amount=20_000),
        ev("c1", "deal.won", "c", AUG + timedelta(days=1), amount=25_000),
        ev("d1", "deal.won", "d", AUG, amount=5_000),
        ev("b2", "deal.won", "b", AUG + timedelta(days=2), amount=10_000),
    )


def test_closing_pays_the_top_n_once_ties_to_who_got_there_first(store: Store) -> None:
    publish_demo(store, PROGRAM)
    deals(store)
    assert close(store, "advocates", clock=clock_at(datetime(2026, 8, 20, tzinfo=UTC))) == []

    [closed] = close(store, "advocates", clock=clock_at(AFTER_AUGUST))
    assert [(w.rank, w.member, w.progress) for w in closed.winners] == [
        (1, "a", 30_000),
        (2, "b", 30_000),
    ]
    assert closed.paid == 2
    lifetimes = {m: members_service.show(store, "advocates", m).lifetime for m in "abcd"}
    assert lifetimes == {"a": 1000, "b": 1000, "c": 0, "d": 0}

    # a late deal dated in August now puts c on top; the close is done: nobody is paid again
    send(store, ev("c2", "deal.won", "c", AUG + timedelta(days=5), amount=50_000))
    before = row_counts(store)
    assert close(store, "advocates", clock=clock_at(AFTER_AUGUST + timedelta(days=1))) == []
    assert row_counts(store) == before
    [pipeline] = stats(store, "advocates", "pipeline", clock=clock_at(AFTER_AUGUST))
    assert (pipeline.status, pipeline.winners) == ("closed", ["a", "b"])


def test_replay_keeps_the_winners_the_close_paid(store: Store) -> None:
    publish_demo(store, PROGRAM)
    deals(store)
    close(store, "advocates", clock=clock_at(AFTER_AUGUST))
    before = projection(store)
    replay(store, "advocates", clock=clock_at())
    assert projection(store) == before


def test_the_host_cannot_send_challenge_won_itself(store: Store) -> None:
    publish_demo(store, PROGRAM)
    [outcome] = send(store, ev("w1", "challenge.won", "a", AUG, challenge="pipeline", rank=1))
    assert outcome.status.value == "rejected"
    assert outcome.error is not None and outcome.error.field == "type"
    assert row_counts(store)["events"] == 0


def test_stats_split_completion_by_a_member_attribute(store: Store) -> None:
    publish_demo(store, PROGRAM)
    q3 = datetime(2026, 7, 10, 15, tzinfo=UTC)
    people = {
        "m1": {"role": "advocate", "region": "emea"},
        "m2": {"role": "advocate", "region": "emea"},
        "m3": {"role": "advocate", "region": "amer"},
        "m4": {"role": "admin", "region": "amer"},  # outside the segment
    }
    send(
        store,
        *(ev(f"join-{m}", "deal.won", m, q3, attributes=a, amount=1) for m, a in people.items()),
    )
    send(store, ev("s1", "story.submitted", "m1", q3), ev("s4", "story.submitted", "m4", q3))

    [story] = stats(store, "advocates", "story_q3", by="region", clock=clock_at(q3))
    assert (story.status, story.eligible, story.participants, story.reached) == ("open", 3, 1, 1)
    assert story.completion_percent == 33.3
    split = {s.value: (s.eligible, s.reached, s.completion_percent) for s in story.segments}
    assert split == {"amer": (1, 0, 0.0), "emea": (2, 1, 50.0)}


def test_a_winner_with_a_long_member_id_is_paid(store: Store) -> None:
    publish_demo(store, PROGRAM)
    long_id = "m" * 200
    send(store, ev("a1", "deal.won", long_id, AUG, amount=30_000))
    [closed] = close(store, "advocates", clock=clock_at(AFTER_AUGUST))
    assert closed.paid == 1
    assert members_service.show(store, "advocates", long_id).lifetime == 1000


def test_a_version_may_not_move_a_challenges_window_or_drop_it_unpaid(store: Store) -> None:
    publish_demo(store, PROGRAM)
    send(store, ev("a1", "deal.won", "a", AUG, amount=30_000))
    moved = PROGRAM.replace("ends: 2026-08-31", "ends: 2026-09-30")
    with pytest.raises(Conflict, match="would change its window"):
        publish(store, moved, clock=clock_at(AFTER_AUGUST))
    dropped = PROGRAM[: PROGRAM.index("  - key: pipeline")]
    with pytest.raises(Conflict, match="not paid yet"):
        publish(store, dropped, clock=clock_at(AFTER_AUGUST))
    close(store, "advocates", clock=clock_at(AFTER_AUGUST))
    assert publish(store, dropped, clock=clock_at(AFTER_AUGUST)).new


def test_closing_an_everyone_challenge_records_who_reached_it_and_pays_nothing_more(
    store: Store,
) -> None:
    publish_demo(store, PROGRAM)
    q3 = datetime(2026, 7, 10, 15, tzinfo=UTC)
    send(store, ev("s1", "story.submitted", "m1", q3, attributes={"role": "advocate"}))
    before = members_service.show(store, "advocates", "m1").lifetime
    closed = close(store, "advocates", clock=clock_at(datetime(2026, 10, 5, tzinfo=UTC)))
    story = next(c for c in closed if c.key == "story_q3")
    assert ([w.member for w in story.winners], story.paid) == (["m1"], 0)
    assert members_service.show(store, "advocates", "m1").lifetime == before == 600


def test_a_challenge_won_is_told_once_on_reaching_the_goal_and_at_the_close(store: Store) -> None:
    """`challenge.won` in the outbox: story_q3 pays on reaching its goal, pipeline at its
    close (top 2); a second story, or closing again, tells nobody."""
    from sqlalchemy import select

    from accolade.service.webhooks import subscribe
    from accolade.store.tables import outbox

    publish_demo(store, PROGRAM)
    subscribe(store, "advocates", "https://example.com/hook", "challenge.won")
    advocate = {"role": "advocate"}
    send(store, ev("s1", "story.submitted", "ann", AUG, advocate))
    send(store, ev("s2", "story.submitted", "ann", AUG + timedelta(days=1)))
    deals(store)
    close(store, "advocates", clock=clock_at(AFTER_AUGUST))
    close(store, "advocates", clock=clock_at(AFTER_AUGUST + timedelta(days=1)))
    with store.engine.connect() as conn:
        told = [
            json.loads(p)
            for (t, p) in conn.execute(
                select(outbox.c.type, outbox.c.payload).order_by(outbox.c.id)
            )
            if t == "challenge.won"
        ]
    assert [(m["data"]["member"], m["data"]["challenge"]) for m in told] == [
        ("ann", "story_q3"),
        ("a", "pipeline"),
        ("b", "pipeline"),
    ]
    assert told[0]["data"]["event_id"] == "s1"
