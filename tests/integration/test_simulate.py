"""Simulating a draft: the event log evaluated under it, compared with what was given; nothing
live changes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from accolade.errors import InvalidInput, InvalidProgram, NotFound
from accolade.service import rewards
from accolade.service.ingest import ingest, ingest_batch
from accolade.service.programs import publish
from accolade.service.reverse import reverse
from accolade.service.simulate import Simulation, simulate
from accolade.service.simulate_diff import Placed, TierMove
from accolade.store.unit_of_work import Store
from tests.programs import program_head

from .builders import (
    DEMO_SOURCE,
    MONDAY,
    NOW,
    PROGRAM,
    clock_at,
    deal,
    demo_with,
    lead,
    projection,
    publish_demo,
    quizzes,
    row_counts,
    send,
)

EXAMPLES = Path(__file__).parents[2] / "examples"
LATER = NOW + timedelta(days=1)
CERTIFIED_USER = """  - key: certified_user
    name: Certified User
    description: Passed a product certification quiz.
    when: {action: quiz_passed}

"""


def run(store: Store, source: str = DEMO_SOURCE, **options: object) -> Simulation:
    return simulate(store, PROGRAM, source, clock=clock_at(LATER), **options)  # type: ignore[arg-type]


def partner_stream(store: Store) -> list[dict[str, object]]:
    """The example partner stream (2,000 events over 60 members), a few of them reversed."""
    lines = (EXAMPLES / "partner-events.jsonl").read_text(encoding="utf-8").splitlines()
    stream = [json.loads(line) for line in lines]
    ingest(store, PROGRAM, enumerate(stream, start=1), chunk_size=500, clock=clock_at())
    for e in [e for e in stream if e["type"] in ("lead.registered", "deal.won")][:5]:
        reverse(store, PROGRAM, str(e["id"]), "audit", clock=clock_at(LATER))
    return stream


def assert_no_difference(result: Simulation) -> None:
    assert [f for f in result.points if f.delta] == []
    assert result.issued.delta == 0 and result.issued.actual > 0
    assert [f for f in result.tiers if f.delta] == []
    assert (result.tier_moves, result.tier_moves_total) == ((), 0)
    assert [b for b in result.badges if b.delta or b.gained or b.lost] == []
    assert result.liability.delta == 0 and result.overdrawn.delta == 0
    assert [b for b in result.leaderboards if b.changed] == []
    assert [f for f in (*result.challenges_reached, *result.challenges_won) if f.delta] == []
    assert [d for d in result.member_details if d.actual != d.simulated] == []


def test_a_draft_identical_to_the_active_version_changes_nothing(store: Store) -> None:
    publish_demo(store)
    partner_stream(store)

    result = run(store, members=["partner-00001", "partner-00007"])

    assert_no_difference(result)
    assert (result.events, result.reversed, result.members) == (1995, 5, 60)
    assert len(result.member_details) == 2
    assert {f.key for f in result.tiers} >= {"bronze", "silver"}
    assert any(b.actual for b in result.badges)


def test_simulating_writes_nothing_live_but_its_record(store: Store) -> None:
    publish_demo(store)
    partner_stream(store)
    before, counts = projection(store), row_counts(store)

    run(store, demo_with("points: 100\n", "points: 200\n"))

    after = row_counts(store)
    assert after.pop("program_simulations") == counts.pop("program_simulations") + 1
    assert after == counts
    assert projection(store) == before


def test_doubling_quiz_points_doubles_that_rule_and_moves_alice_to_silver(store: Store) -> None:
    publish_demo(store)
    # alice: 45 quizzes, 4,500 points (Bronze; Silver starts at 5,000); bob: 10 quizzes and
    # a lead, 1,500; carol: a deal only
    send(store, *quizzes(45, "alice"), *quizzes(10, "bob", prefix="bob"), lead("lead-1", "bob"))
    send(store, deal("deal-1", "carol", amount_usd=20_000))

    result = run(store, demo_with("points: 100\n", "points: 200\n"))

    points = {f.key: (f.actual, f.simulated) for f in result.points}
    assert points["action:quiz_passed"] == (5_500, 11_000)
    assert points["action:lead_registered"] == (500, 500)
    assert points["action:deal_won"] == (200, 200)
    assert result.issued.delta == 5_500 and result.liability.delta == 5_500
    assert result.tier_moves == (TierMove("alice", "bronze", "silver"),)
    tiers = {f.key: (f.actual, f.simulated) for f in result.tiers}
    assert tiers == {"bronze": (3, 2), "silver": (0, 1)}


def test_a_badge_the_draft_removes_shows_as_lost(store: Store) -> None:
    publish_demo(store)
    send(store, *quizzes(1, "alice"), *quizzes(2, "bob", prefix="bob"), lead("lead-1", "carol"))

    result = run(store, demo_with(CERTIFIED_USER, ""), members=["alice"])

    [certified] = [b for b in result.badges if b.key == "certified_user"]
    assert (certified.actual, certified.simulated, certified.lost) == (2, 0, 2)
    assert certified.lost_members == ("alice", "bob")
    [alice] = result.member_details
    assert (alice.actual.badges, alice.simulated.badges) == (("certified_user",), ())


def test_reversed_events_are_left_out(store: Store) -> None:
    publish_demo(store)
    send(store, lead("lead-1"), lead("lead-2", at=MONDAY + timedelta(hours=1)))
    reverse(store, PROGRAM, "lead-1", "not qualified after all", clock=clock_at())

    same = run(store)
    doubled = run(store, demo_with("points: 500\n", "points: 1000\n"))

    assert_no_difference(same)
    assert (same.events, same.reversed) == (1, 1)
    leads = {f.key: (f.actual, f.simulated) for f in doubled.points}["action:lead_registered"]
    assert leads == (500, 1000)


def test_a_range_counts_the_points_of_its_events_only(store: Store) -> None:
    publish_demo(store)
    send(store, *quizzes(3, "alice"))  # Monday
    send(store, *quizzes(2, "alice", start=MONDAY + timedelta(days=7), prefix="later"))

    result = run(
        store,
        demo_with("points: 100\n", "points: 200\n"),
        since=MONDAY + timedelta(days=7),  # the time of the first later quiz: counted
        until=MONDAY + timedelta(days=30),
    )

    assert (result.events, result.counted) == (5, 2)
    quiz = {f.key: (f.actual, f.simulated) for f in result.points}["action:quiz_passed"]
    assert quiz == (200, 400)
    # the state compared is the end of the whole log
    assert (result.liability.actual, result.liability.simulated) == (500, 1000)


SHOP = (
    program_head("shop", "Shop", timezone="Europe/Berlin")
    + """
actions:
  - {key: review, event: review.posted, points: 500}
rewards:
  - {key: tshirt, name: T-shirt, price: 300}
"""
)


def test_spending_is_taken_from_the_simulated_balance(store: Store) -> None:
    publish(store, SHOP, clock=clock_at())
    review = {
        "id": "r1",
        "type": "review.posted",
        "member": "alice",
        "occurred_at": MONDAY.isoformat(),
    }
    ingest_batch(store, "shop", [(1, review)], clock=clock_at())
    rewards.redeem(store, "shop", "alice", "tshirt", clock=clock_at())

    same = simulate(store, "shop", SHOP, clock=clock_at(LATER))
    stingy = simulate(store, "shop", SHOP.replace("points: 500", "points: 100"))

    assert (same.liability.actual, same.liability.simulated) == (200, 200)
    assert (stingy.liability.simulated, stingy.overdrawn.simulated) == (-200, 1)


BOARDS = (
    program_head("advocates", "Advocates", timezone="America/New_York")
    + """
actions:
  - {key: story_submitted, event: story.submitted, points: 100}
  - {key: deal_won, event: deal.won, points: 50}
challenges:
  - key: stories
    name: Two stories in May
    starts: 2026-05-01
    ends: 2026-06-01
    goal: {action: story_submitted, count: 2}
    reward: {points: 100}
leaderboards:
  - {key: all_time, name: Hall of fame}
"""
)


def test_the_all_time_board_and_the_challenges_compare(store: Store) -> None:
    publish(store, BOARDS, clock=clock_at())
    may = MONDAY.replace(month=5, day=5)
    events = [
        ("s1", "story.submitted", "ana"),
        ("s2", "story.submitted", "ana"),
        ("d1", "deal.won", "ben"),
        ("s3", "story.submitted", "cleo"),
    ]
    ingest_batch(
        store,
        "advocates",
        [
            (
                i,
                {
                    "id": e,
                    "type": t,
                    "member": m,
                    "occurred_at": (may + timedelta(hours=i)).isoformat(),
                },
            )
            for i, (e, t, m) in enumerate(events, start=1)
        ],
        clock=clock_at(),
    )

    same = simulate(store, "advocates", BOARDS, clock=clock_at(LATER))
    draft = BOARDS.replace("points: 50}", "points: 500}").replace("count: 2}", "count: 3}")
    changed = simulate(store, "advocates", draft, clock=clock_at(LATER))

    assert_no_difference(same)
    [board] = changed.leaderboards
    assert board.actual == (Placed("ana", 300), Placed("cleo", 100), Placed("ben", 50))
    assert board.simulated == (Placed("ben", 500), Placed("ana", 200), Placed("cleo", 100))
    assert (board.changed, board.entered, board.left) == (True, (), ())
    [reached] = changed.challenges_reached
    [won] = changed.challenges_won
    assert (reached.key, reached.actual, reached.simulated) == ("stories", 1, 0)
    assert (won.actual, won.simulated) == (1, 0)


@pytest.mark.parametrize(
    ("source", "options", "error", "field"),
    [
        (demo_with("points: 10\n", "points: -10\n"), {}, InvalidProgram, None),
        (DEMO_SOURCE.replace("key: partner", "key: elsewhere", 1), {}, InvalidInput, "key"),
        (DEMO_SOURCE, {"since": LATER, "until": NOW}, InvalidInput, "to"),
        (DEMO_SOURCE, {"members": ["nobody"]}, NotFound, "member"),
    ],
    ids=["invalid draft", "another program", "reversed range", "unknown member"],
)
def test_bad_input_names_its_field_and_stores_nothing(
    store: Store, source: str, options: dict[str, object], error: type[Exception], field: str
) -> None:
    publish_demo(store)
    send(store, *quizzes(2))
    before = row_counts(store)

    with pytest.raises(error) as raised:
        run(store, source, **options)

    if field is not None:
        assert getattr(raised.value, "field", None) == field
    assert row_counts(store) == before


PROFILE_COMPLETED = """  - key: profile_completed
    event: profile.completed
    name: Complete your partner profile
    points: 30
    limits:
      once: true

"""


def test_events_the_draft_refuses_are_counted_and_left_out(store: Store) -> None:
    publish_demo(store)
    profile = {"id": "p1", "type": "profile.completed", "member": "alice"}
    send(store, {**profile, "occurred_at": MONDAY.isoformat()}, *quizzes(1))

    result = run(store, demo_with(PROFILE_COMPLETED, ""))

    [refused] = result.rejected
    assert (refused.type, refused.events) == ("profile.completed", 1)
    assert "unknown event type 'profile.completed'" in refused.reason
    points = {f.key: (f.actual, f.simulated) for f in result.points}
    assert points["action:profile_completed"] == (30, 0)
    assert result.events == 1
