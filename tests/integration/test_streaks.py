"""Streaks through the store: ingest, reversal and replay agree; the member view shows them."""

from __future__ import annotations

from datetime import timedelta

from accolade.service.members import show
from accolade.service.replay import replay
from accolade.service.reverse import reverse
from accolade.store.unit_of_work import Store

from .builders import (
    DEMO_SOURCE,
    MONDAY,
    PROGRAM,
    assert_balances_match_ledger,
    clock_at,
    ledger_of,
    projection,
    publish_demo,
    quiz,
    send,
)

DAY = timedelta(days=1)
STREAKY_SOURCE = (
    DEMO_SOURCE.replace(
        "\ntiers:\n",
        "\n  - key: steady_partner\n    name: Steady Partner\n    points: 20\n\ntiers:\n",
        1,
    )
    + """
streaks:
  - key: daily_quiz
    name: Daily quiz
    action: quiz_passed
    grace: 1
    freezes: {every: 3, max: 1}
    milestones:
      - {length: 3, points: 30}
      - {length: 7, points: 70, badge: steady_partner}
  - key: weekly_quiz
    name: Weekly quiz
    action: quiz_passed
    period: week
    milestones:
      - {length: 2, points: 15}
"""
)


def quizzes_on(*days: int, member: str = "alice") -> list[dict]:
    """A quiz on each of ``days`` after Monday 2 March 2026 (09:00 in New York)."""
    return [quiz(f"{member}-q{n}", member, MONDAY + n * DAY) for n in days]


def streak_lines(store: Store, member: str = "alice") -> list[tuple[str, str, str, int]]:
    return [
        (line.event_id.removeprefix(f"{member}-"), line.kind, line.period, line.points)
        for line in ledger_of(store, member)
        if line.rule.startswith("streak:")
    ]


def test_ingest_pays_milestones_once_and_the_member_sees_the_streak(store: Store) -> None:
    publish_demo(store, STREAKY_SOURCE)
    # Wednesday (day 2) missed and forgiven; day 8 arrives late and fills its own day
    send(store, *quizzes_on(0, 1, 3, 4, 5, 6, 7, 9))
    send(store, *quizzes_on(8))

    assert streak_lines(store) == [
        ("q3", "streak", "3d", 30),
        ("q7", "streak", "7d", 70),
        ("q7", "streak", "2w", 15),
    ]
    view = show(store, PROGRAM, "alice", clock=clock_at(MONDAY + 10 * DAY))
    daily, weekly = view.streaks
    assert (daily.key, daily.current, daily.longest, daily.done) == ("daily_quiz", 9, 9, False)
    assert (daily.next_milestone, daily.periods_to_next_milestone) == (None, None)
    assert (weekly.current, weekly.longest, weekly.done) == (2, 2, True)
    assert sorted(b.key for b in view.badges) == [
        "certified_user",
        "product_expert",
        "steady_partner",
    ]
    assert_balances_match_ledger(store)


def test_the_member_view_shows_a_streak_broken_when_days_were_missed_since(store: Store) -> None:
    publish_demo(store, STREAKY_SOURCE)
    send(store, *quizzes_on(0, 1, 2))

    on_time = show(store, PROGRAM, "alice", clock=clock_at(MONDAY + 3 * DAY)).streaks[0]
    much_later = show(store, PROGRAM, "alice", clock=clock_at(MONDAY + 9 * DAY)).streaks[0]

    assert (on_time.current, on_time.freezes, on_time.next_milestone) == (3, 1, 7)
    assert on_time.periods_to_next_milestone == 4
    assert (much_later.current, much_later.longest, much_later.freezes) == (0, 3, 0)


def test_reversing_the_day_that_completed_a_milestone_takes_its_points_back(store: Store) -> None:
    publish_demo(store, STREAKY_SOURCE)
    send(store, *quizzes_on(0, 1, 2))

    reverse(store, PROGRAM, "alice-q2", "quiz retaken by someone else", clock=clock_at())

    assert streak_lines(store) == [("q2", "streak", "3d", 30), ("q2", "reversal", "3d", -30)]
    assert show(store, PROGRAM, "alice", clock=clock_at(MONDAY + 2 * DAY)).streaks[0].longest == 2
    assert_balances_match_ledger(store)


def test_replay_gives_the_same_streaks_and_ledger(store: Store) -> None:
    publish_demo(store, STREAKY_SOURCE)
    send(store, *quizzes_on(0, 1, 3, 4, 5, 6, 7))
    send(store, *quizzes_on(2, 3, 4, 5, 6, 7, 8, member="bob"))
    send(store, *quizzes_on(1, 0, member="bob"))  # late: joins bob's days into one run
    reverse(store, PROGRAM, "alice-q4", "audit", clock=clock_at())
    before = projection(store)
    streaks = {m: streaks_of(store, m) for m in ("alice", "bob")}

    replay(store, PROGRAM, chunk_size=4, clock=clock_at())

    assert projection(store) == before
    assert {m: streaks_of(store, m) for m in ("alice", "bob")} == streaks
    assert [s.longest for s in streaks["bob"]] == [9, 2]
    assert ("q8", "streak", "7d", 70) in streak_lines(store, "bob")


def streaks_of(store: Store, member: str) -> list:
    return show(store, PROGRAM, member, clock=clock_at(MONDAY + 9 * DAY)).streaks
