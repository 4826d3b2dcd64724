"""Leaderboards in the engine: what an event adds to each board, in which window, for whom;
where a member competes; the rank buckets; the program file's rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from accolade.engine.leaderboards import contributions, placement, visible, win_leaderboard
from accolade.errors import InvalidEvent, InvalidProgram
from accolade.program.loader import load_program
from accolade.store.repositories.rankings import bucket_ceiling, bucket_of
from tests.programs import MEMBER_GOLD, program_head

from .builders import event, member, program, run

BOARDS = (
    program_head("test", "Test", timezone="America/New_York", tiers=MEMBER_GOLD)
    + """
actions:
  - {key: story, event: story, points: 100}
  - {key: deal, event: deal, points: 10, limits: {cooldown: 1h}}
badges:
  - {key: champion, name: Champion}
leaderboards:
  - {key: points, name: Points}
  - {key: weekly, name: Weekly, window: week, reward: {top: 3, points: 50, badge: champion}}
  - {key: rolling, name: Rolling, window: 30d}
  - {key: deals, name: Deals, metric: {action: deal}}
  - {key: pipeline, name: Pipeline, metric: {action: deal, sum: amount}}
  - {key: companies, name: Companies, subject: company}
  - key: regional
    name: Regional
    partition: [region]
    tier_bracket: true
    segment: [{attribute: role, eq: advocate}]
"""
)
# Sunday 2026-08-16, 23:30 in New York: still ISO week 33 there (Monday 03:30 UTC).
SUNDAY_NIGHT = datetime(2026, 8, 17, 3, 30, tzinfo=UTC)


def changes(source: str, *events):
    compiled = program(source)
    done = run(compiled, events)
    last = done.evaluations[-1]
    return {
        (c.board, c.window, c.subject): c.delta
        for c in contributions(compiled, events[-1], last.entries, last.state)
    }


def test_an_event_lands_in_the_week_of_its_own_time_in_the_programs_zone() -> None:
    found = changes(BOARDS, event("story", SUNDAY_NIGHT, company="acme"))
    assert found[("weekly", "2026-W33", "m1")] == 100
    assert found[("points", "all", "m1")] == 100
    assert found[("rolling", "rolling", "m1")] == 100
    assert found[("companies", "all", "acme")] == 100
    assert ("deals", "all", "m1") not in found


def test_count_and_sum_metrics_take_only_rewarded_occurrences() -> None:
    first = event("deal", SUNDAY_NIGHT, properties={"amount": 1234.6})
    assert changes(BOARDS, first)[("pipeline", "all", "m1")] == 1235
    assert changes(BOARDS, first)[("deals", "all", "m1")] == 1
    cooled = event("deal", SUNDAY_NIGHT, properties={"amount": 99})  # inside the cooldown
    assert ("deals", "all", "m1") not in changes(BOARDS, first, cooled)
    for bad in (-5, 0, True, "12", 1e16):
        # 1e16 is refused by the Event model at the edge; the engine does not rely on it.
        ignored = event("deal", SUNDAY_NIGHT).model_copy(update={"properties": {"amount": bad}})
        assert ("pipeline", "all", "m1") not in changes(BOARDS, ignored)


def test_a_company_board_credits_the_events_company_else_the_members() -> None:
    compiled = program(BOARDS)
    joined = event("story", SUNDAY_NIGHT, company="acme")
    plain = event("story", SUNDAY_NIGHT)
    done = run(compiled, [joined, plain])
    last = done.evaluations[-1]
    found = contributions(compiled, plain, last.entries, last.state)
    assert [c.subject for c in found if c.board == "companies"] == ["acme"]


def test_placement_follows_segment_partition_and_tier_and_opt_out_hides() -> None:
    board = program(BOARDS).leaderboards["regional"]
    advocate = member(attributes={"role": "advocate", "region": "EMEA"}, tier="gold")
    assert placement(board, advocate) == '["EMEA","gold"]'
    assert placement(board, member(attributes={"role": "admin", "region": "EMEA"})) is None
    assert visible(advocate)
    assert not visible(member(attributes={"leaderboard_opt_out": True}))


def test_the_prize_event_pays_points_and_the_badge_once() -> None:
    compiled = program(BOARDS)
    state = member()
    new = member()
    entries: list = []
    props = {"leaderboard": "weekly", "window": "2026-W33", "rank": 2}
    assert win_leaderboard(compiled, state, new, "w1", 0, props, entries) == 50
    assert [(e.rule, e.points, e.period) for e in entries] == [
        ("leaderboard:weekly", 50, "2026-W33"),
        ("badge:champion", 0, ""),
    ]
    with pytest.raises(InvalidEvent) as unknown:
        win_leaderboard(compiled, state, new, "w2", 0, {"leaderboard": "nope"}, [])
    assert unknown.value.field == "properties.leaderboard"


@given(st.integers(1, 10**15))
@example(1024)  # the first shared bucket: 1024 to 1028 (a ceiling of 1024 missed 1025-1028)
@example(1026)
def test_a_score_is_at_most_its_buckets_ceiling_and_the_next_score_up_may_leave_it(
    score: int,
) -> None:
    bucket = bucket_of(score)
    ceiling = bucket_ceiling(bucket)
    assert score <= ceiling
    assert bucket_of(ceiling) == bucket
    assert bucket_of(ceiling + 1) == bucket + 1


def errors_of(text: str) -> list[str]:
    with pytest.raises(InvalidProgram) as caught:
        load_program(text)
    return [str(e) for e in caught.value.errors]


@pytest.mark.parametrize(
    ("board", "expected"),
    [
        ("{key: b, name: B, window: fortnight}", "leaderboards[0].window"),
        ("{key: b, name: B, subject: company, partition: [region]}", "'partition' is for member"),
        ("{key: b, name: B, window: 30d, reward: {top: 3, points: 5}}", "never closes"),
        ("{key: b, name: B, metric: {action: nope}}", "leaderboards[0].metric.action"),
        ("{key: b, name: B, window: week, reward: {top: 1, badge: nope}}", "reward.badge"),
        ("{key: b, name: B, tiers: [platinum]}", "leaderboards[0].tiers[0]"),
        ("{key: b, name: B, min_score: 0}", "leaderboards[0].min_score"),
    ],
)
def test_bad_boards_are_refused_with_the_path(board: str, expected: str) -> None:
    text = BOARDS.split("leaderboards:")[0] + f"leaderboards:\n  - {board}\n"
    found = errors_of(text)
    assert any(expected in line for line in found), found
