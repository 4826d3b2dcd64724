"""Streaks: runs of days or weeks with an action, grace, freezes, milestones, late events."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accolade.engine.state import MemberState
from accolade.engine.streaks import StreakStatus, longest_run, period_label, streak_status
from accolade.errors import InvalidProgram
from accolade.program.compiled import CompiledProgram
from accolade.program.loader import load_program
from tests.unit.builders import DAY, HOUR, T0, event, of_kind, program, reverse, run

WEEK = timedelta(days=7)


def streaky(
    period: str = "day",
    grace: int = 0,
    freezes: dict[str, int] | None = None,
    milestones: list[dict[str, Any]] | None = None,
    timezone: str = "UTC",
    badges: list[dict[str, Any]] | None = None,
) -> CompiledProgram:
    """A program whose ``lesson.done`` (5 points) counts for the streak ``daily``."""
    streak: dict[str, Any] = {
        "key": "daily",
        "name": "Daily learner",
        "action": "lesson",
        "period": period,
        "grace": grace,
    }
    if freezes is not None:
        streak["freezes"] = freezes
    if milestones is not None:
        streak["milestones"] = milestones
    return program(
        {
            "timezone": timezone,
            "actions": [
                {"key": "lesson", "event": "lesson.done", "points": 5},
                {"key": "login", "points": 1},
            ],
            "badges": badges or [],
            "streaks": [streak],
        }
    )


def lessons(*days: int, start: datetime = T0, step: timedelta = DAY) -> list[Any]:
    """A lesson on each of ``days`` (0 is Monday 2 March 2026, 14:00 UTC), ids ``d<n>``."""
    return [event("lesson.done", start + n * step, id=f"d{n}") for n in days]


def status(prog: CompiledProgram, state: MemberState, at: datetime) -> StreakStatus:
    [streak] = prog.definition.streaks
    return streak_status(streak, state.streaks.get(streak.key, []), int(at.timestamp()), prog.zone)


def figures(prog: CompiledProgram, state: MemberState, at: datetime) -> tuple[int, int]:
    """(current, longest) as of ``at``."""
    seen = status(prog, state, at)
    return seen.current, seen.longest


def on_day(n: int, hour: int = 20) -> datetime:
    return T0.replace(hour=hour) + n * DAY


# -- runs ---------------------------------------------------------------------------------


def test_consecutive_days_build_a_streak():
    prog = streaky()
    state = run(prog, lessons(0, 1, 2, 3, 4)).state
    seen = status(prog, state, on_day(4))
    assert (seen.current, seen.longest, seen.done) == (5, 5, True)


def test_the_streak_survives_the_day_it_is_not_done_yet():
    prog = streaky()
    state = run(prog, lessons(0, 1, 2)).state
    seen = status(prog, state, on_day(3))
    assert (seen.current, seen.done) == (3, False)


def test_a_missed_day_breaks_the_streak_without_grace_or_freezes():
    prog = streaky()
    state = run(prog, lessons(0, 1, 3)).state
    assert figures(prog, state, on_day(3)) == (1, 2)


def test_the_streak_shows_broken_once_a_whole_day_was_missed():
    prog = streaky()
    state = run(prog, lessons(0, 1, 2)).state
    assert figures(prog, state, on_day(4)) == (0, 3)


def test_several_events_on_one_day_count_once():
    prog = streaky()
    state = run(prog, lessons(0, 1) + lessons(1, start=T0 + HOUR)).state
    assert state.streaks == {"daily": [T0.date().toordinal(), T0.date().toordinal() + 1]}
    assert figures(prog, state, on_day(1)) == (2, 2)


def test_only_rewarded_occurrences_of_the_streak_action_count():
    prog = program(
        {
            "actions": [
                {"key": "lesson", "event": "lesson.done", "points": 5, "limits": {"once": True}},
                {"key": "login", "points": 1},
            ],
            "streaks": [{"key": "daily", "name": "Daily", "action": "lesson"}],
        }
    )
    events = [*lessons(0, 1), event("login", on_day(2))]
    state = run(prog, events).state
    assert len(state.streaks["daily"]) == 1  # the second lesson was limited, the login is not it


# -- grace --------------------------------------------------------------------------------


def test_grace_forgives_a_missed_day_and_does_not_lengthen_the_streak():
    prog = streaky(grace=1)
    state = run(prog, lessons(0, 1, 3)).state  # Wednesday missed
    assert figures(prog, state, on_day(3)) == (3, 3)
    assert status(prog, state, on_day(3)).grace_left == 0


def test_grace_forgives_only_the_first_missed_days_of_a_calendar_week():
    prog = streaky(grace=1)
    state = run(prog, lessons(0, 1, 3, 5)).state  # Wednesday forgiven, Friday not
    assert figures(prog, state, on_day(5)) == (1, 3)


def test_grace_is_given_again_each_calendar_week():
    prog = streaky(grace=1)
    # Wednesday of the first week and Tuesday of the second are missed
    state = run(prog, lessons(0, 1, 3, 4, 5, 6, 7, 9, 10)).state
    assert figures(prog, state, on_day(10)) == (9, 9)
    assert status(prog, state, on_day(10)).grace_left == 0
    assert status(prog, state, on_day(14)).grace_left == 1  # the next Monday


def test_grace_counts_the_days_of_the_week_before_the_first_one_done():
    prog = streaky(grace=1)
    state = run(prog, lessons(3, 5)).state  # started on Thursday: Monday took the grace
    assert figures(prog, state, on_day(5)) == (1, 1)


# -- freezes ------------------------------------------------------------------------------


def test_a_freeze_covers_a_missed_day_that_grace_does_not():
    prog = streaky(freezes={"every": 3, "max": 1})
    state = run(prog, lessons(0, 1, 2, 4)).state
    seen = status(prog, state, on_day(4))
    assert (seen.current, seen.freezes) == (4, 0)


def test_without_a_freeze_left_the_next_missed_day_breaks_the_streak():
    prog = streaky(freezes={"every": 3, "max": 1})
    state = run(prog, lessons(0, 1, 2, 4, 6)).state
    assert figures(prog, state, on_day(6)) == (1, 4)


def test_freezes_are_earned_every_n_days_and_capped():
    prog = streaky(freezes={"every": 2, "max": 2})
    assert status(prog, run(prog, lessons(0)).state, on_day(0)).freezes == 0
    assert status(prog, run(prog, lessons(0, 1)).state, on_day(1)).freezes == 1
    state = run(prog, lessons(*range(9))).state
    assert status(prog, state, on_day(8)).freezes == 2


def test_the_count_towards_a_freeze_pauses_while_the_member_holds_the_most():
    prog = streaky(freezes={"every": 2, "max": 2})
    # 4 days earn 2 freezes, 3 more earn nothing; one is spent on day 7, day 8 is 1 of 2 again
    state = run(prog, lessons(0, 1, 2, 3, 4, 5, 6, 8)).state
    assert status(prog, state, on_day(8)).freezes == 1
    assert status(prog, run(prog, lessons(0, 1, 2, 3, 4, 5, 6, 8, 9)).state, on_day(9)).freezes == 2


def test_freezes_are_spent_on_missed_days_up_to_now():
    prog = streaky(freezes={"every": 2, "max": 2})
    state = run(prog, lessons(0, 1, 2, 3)).state
    assert [status(prog, state, on_day(n)).freezes for n in (4, 5, 6, 7)] == [2, 1, 0, 0]
    assert [status(prog, state, on_day(n)).current for n in (4, 5, 6, 7)] == [4, 4, 4, 0]


# -- late events and time zones -----------------------------------------------------------


def test_a_late_event_fills_its_own_day_and_joins_two_runs():
    prog = streaky()
    before = run(prog, lessons(0, 1, 2, 4, 5)).state
    assert figures(prog, before, on_day(5)) == (2, 3)
    after = run(prog, lessons(3), before).state
    assert figures(prog, after, on_day(5)) == (6, 6)


def test_an_event_late_at_night_counts_for_the_program_days_date():
    # 23:30 on Monday in New York is 04:30 on Tuesday in UTC
    late_monday = datetime(2026, 3, 3, 4, 30, tzinfo=UTC)
    tuesday = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
    events = [event("lesson.done", late_monday), event("lesson.done", tuesday)]
    new_york = streaky(timezone="America/New_York")
    utc = streaky()
    assert figures(new_york, run(new_york, events).state, tuesday) == (2, 2)
    assert figures(utc, run(utc, events).state, tuesday) == (1, 1)


def test_daylight_saving_does_not_break_a_daily_streak():
    prog = streaky(timezone="America/New_York")
    # 8 March 2026: clocks go forward in New York; every event at 00:30 local time
    times = [datetime(2026, 3, 7, 5, 30, tzinfo=UTC), datetime(2026, 3, 8, 5, 30, tzinfo=UTC)]
    times.append(datetime(2026, 3, 9, 4, 30, tzinfo=UTC))
    state = run(prog, [event("lesson.done", t) for t in times]).state
    assert figures(prog, state, times[-1]) == (3, 3)


# -- weeks --------------------------------------------------------------------------------


def test_a_weekly_streak_counts_weeks_from_monday():
    prog = streaky(period="week")
    sunday, monday = T0 + 6 * DAY, T0 + WEEK
    state = run(prog, [event("lesson.done", sunday), event("lesson.done", monday)]).state
    seen = status(prog, state, monday)
    assert (seen.current, seen.longest, seen.done, seen.period) == (2, 2, True, "week")
    assert [period_label(n, "week") for n in state.streaks["daily"]] == ["2026-W10", "2026-W11"]


def test_a_missed_week_breaks_a_weekly_streak():
    prog = streaky(period="week")
    state = run(prog, lessons(0, 1, 3, step=WEEK)).state
    assert figures(prog, state, T0 + 3 * WEEK) == (1, 2)


def test_weekly_grace_forgives_a_missed_week_per_calendar_month():
    prog = streaky(period="week", grace=1)
    # weeks starting 2, 9, 16, 23, 30 March (March), 6, 13 April: 9 and 23 March missed
    state = run(prog, lessons(0, 2, 4, step=WEEK)).state
    assert figures(prog, state, T0 + 4 * WEEK) == (1, 2)
    april = run(prog, lessons(0, 2, 3, 4, 6, step=WEEK)).state  # 9 March and 6 April missed
    assert figures(prog, april, T0 + 6 * WEEK) == (5, 5)


# -- milestones ---------------------------------------------------------------------------

MILESTONES = [{"length": 7, "points": 50}, {"length": 30, "points": 300}]


def test_the_seventh_day_pays_the_seven_day_milestone():
    prog = streaky(milestones=MILESTONES)
    done = run(prog, lessons(*range(7)))
    assert [e for ev in done.evaluations[:-1] for e in of_kind(ev.entries, "streak")] == []
    [entry] = of_kind(done.last.entries, "streak")
    assert (entry.event_id, entry.rule, entry.period, entry.points, entry.reason) == (
        "d6",
        "streak:daily",
        "7d",
        50,
        "7-day streak (Daily learner)",
    )
    assert (done.state.balance, done.state.lifetime) == (7 * 5 + 50, 7 * 5 + 50)


def test_a_milestone_pays_once_per_member_even_after_a_new_run_reaches_it():
    prog = streaky(milestones=MILESTONES)
    done = run(prog, lessons(*range(7), *range(10, 18)))
    assert [e.event_id for e in of_kind(done.entries, "streak")] == ["d6"]


def test_a_longer_run_pays_the_next_milestone():
    prog = streaky(milestones=MILESTONES)
    done = run(prog, lessons(*range(7), *range(10, 40)))
    assert [(e.event_id, e.period) for e in of_kind(done.entries, "streak")] == [
        ("d6", "7d"),
        ("d39", "30d"),
    ]


def test_a_weekly_milestone_names_weeks():
    prog = streaky(period="week", milestones=[{"length": 4, "points": 20}])
    [entry] = of_kind(run(prog, lessons(0, 1, 2, 3, step=WEEK)).entries, "streak")
    assert (entry.period, entry.reason) == ("4w", "4-week streak (Daily learner)")


def test_a_late_event_that_joins_two_runs_pays_the_milestone_they_reach():
    prog = streaky(milestones=MILESTONES)
    done = run(prog, lessons(0, 1, 2, 4, 5, 6, 3))
    [entry] = of_kind(done.entries, "streak")
    assert entry.event_id == "d3"


def test_a_milestone_badge_is_awarded_with_its_points():
    badges = [{"key": "steady", "name": "Steady", "points": 10}]
    prog = streaky(milestones=[{"length": 3, "points": 0, "badge": "steady"}], badges=badges)
    done = run(prog, lessons(0, 1, 2))
    assert [(e.kind.value, e.rule, e.points) for e in done.last.entries] == [
        ("earn", "action:lesson", 5),
        ("streak", "streak:daily", 0),
        ("badge", "badge:steady", 10),
    ]
    assert done.state.badges == {("steady", ""): "d2"}
    assert done.state.lifetime == 25


def test_milestone_points_count_towards_points_badges_and_tiers():
    prog = program(
        {
            "actions": [{"key": "lesson", "event": "lesson.done", "points": 5}],
            "badges": [{"key": "hundred", "name": "Hundred", "when": {"lifetime_points": 60}}],
            "tiers": [
                {"key": "bronze", "name": "Bronze", "min_points": 0},
                {"key": "silver", "name": "Silver", "min_points": 60},
            ],
            "streaks": [
                {
                    "key": "daily",
                    "name": "Daily",
                    "action": "lesson",
                    "milestones": [{"length": 2, "points": 50}],
                }
            ],
        }
    )
    done = run(prog, lessons(0, 1))
    assert [e.kind.value for e in done.last.entries] == ["earn", "streak", "badge", "tier"]
    assert done.state.tier == "silver"


# -- reversal -----------------------------------------------------------------------------


def test_reversing_the_day_that_completed_the_milestone_takes_its_points_back():
    prog = streaky(milestones=MILESTONES)
    before, after = reverse(prog, lessons(*range(7)), "d6")
    streak_lines = [e for e in after.entries if e.rule == "streak:daily"]
    assert [(e.event_id, e.kind.value, e.period, e.points) for e in streak_lines] == [
        ("d6", "reversal", "7d", -50),
    ]
    assert after.state.balance == before.state.balance - 55
    assert figures(prog, after.state, on_day(5)) == (6, 6)


def test_reversing_a_day_in_the_middle_breaks_the_run_and_moves_the_milestone():
    prog = streaky(milestones=MILESTONES, freezes={"every": 3, "max": 1})
    # day 3 reversed: the freeze earned on day 2 bridges it, so day 7 completes the 7 days
    _, after = reverse(prog, lessons(*range(8)), "d3")
    assert [(e.event_id, e.kind.value, e.rule, e.points) for e in after.entries] == [
        ("d3", "reversal", "action:lesson", -5),
        ("d6", "adjustment", "streak:daily", -50),
        ("d7", "adjustment", "streak:daily", 50),
    ]
    assert figures(prog, after.state, on_day(7)) == (7, 7)


def test_reversing_a_day_of_the_run_revokes_the_milestone_badge():
    badges = [{"key": "steady", "name": "Steady", "points": 10}]
    prog = streaky(milestones=[{"length": 3, "points": 0, "badge": "steady"}], badges=badges)
    _, after = reverse(prog, lessons(0, 1, 2), "d1")
    assert [(e.event_id, e.kind.value, e.rule, e.points) for e in after.entries] == [
        ("d1", "reversal", "action:lesson", -5),
        ("d2", "adjustment", "badge:steady", -10),
        ("d2", "badge_revoked", "badge:steady", 0),
    ]
    assert after.state.badges == {}


# -- order does not matter ----------------------------------------------------------------

ORDER_PROGRAM = streaky(
    grace=1,
    freezes={"every": 2, "max": 2},
    milestones=[
        {"length": 3, "points": 10},
        {"length": 5, "points": 20},
        {"length": 8, "points": 40},
    ],
    timezone="America/New_York",
)


@st.composite
def days_and_order(draw: st.DrawFn) -> tuple[list[Any], list[int]]:
    """Lessons at random times over about five weeks, and a permutation of them."""
    hours = draw(st.lists(st.integers(0, 24 * 35), min_size=1, max_size=25))
    events = [event("lesson.done", T0 + h * HOUR, id=f"l{i}") for i, h in enumerate(hours)]
    order = draw(st.permutations(range(len(events))))
    return events, list(order)


@settings(max_examples=150, deadline=None)
@given(days_and_order())
def test_any_arrival_order_gives_the_same_streak_and_milestone_points(case):
    events, order = case
    in_time = run(ORDER_PROGRAM, sorted(events, key=lambda e: e.ts))
    shuffled = run(ORDER_PROGRAM, [events[i] for i in order])
    assert shuffled.state.streaks == in_time.state.streaks
    for days in (0, 10, 20, 30, 40):
        at = T0 + days * DAY
        assert status(ORDER_PROGRAM, shuffled.state, at) == status(ORDER_PROGRAM, in_time.state, at)

    def paid(r: Any) -> list[tuple[str, int]]:
        return sorted((e.period, e.points) for e in of_kind(r.entries, "streak"))

    assert paid(shuffled) == paid(in_time)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 60), min_size=1, max_size=40, unique=True),
    st.integers(-5, 65),
    st.sampled_from(["day", "week"]),
    st.integers(0, 2),
    st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 3))),
)
def test_adding_a_period_never_shortens_the_longest_run(numbers, extra, period, grace, freezes):
    prog = streaky(
        period=period,
        grace=grace,
        freezes={"every": freezes[0], "max": freezes[1]} if freezes else None,
    )
    [streak] = prog.definition.streaks
    start = T0.date().toordinal() if period == "day" else (T0.date().toordinal() - 1) // 7
    done = sorted(start + n for n in numbers)
    more = sorted({*done, start + extra})
    assert longest_run(streak, more) >= longest_run(streak, done)


# -- state and program file ---------------------------------------------------------------


def test_a_state_stored_before_streaks_existed_still_loads():
    old = '{"badges":[],"occurrences":{"act":[1]},"monthly_points":{}}'
    state = MemberState.restore(
        "m1",
        team=None,
        company=None,
        attributes={},
        lifetime=0,
        balance=0,
        tier=None,
        progress=old,
    )
    assert state.streaks == {}
    assert "streaks" not in state.progress_json()


def test_streak_periods_survive_storing_and_loading():
    prog = streaky()
    state = run(prog, lessons(0, 1)).state
    restored = MemberState.restore(
        "m1",
        team=None,
        company=None,
        attributes={},
        lifetime=0,
        balance=0,
        tier=None,
        progress=state.progress_json(),
    )
    assert restored.streaks == state.streaks


def test_evaluating_never_changes_the_previous_state():
    prog = streaky(
        milestones=[{"length": 2, "points": 5, "badge": "steady"}],
        badges=[{"key": "steady", "name": "Steady"}],
    )
    first = run(prog, lessons(0)).state
    kept = (dict(first.streaks), list(first.streaks["daily"]), dict(first.badges))
    run(prog, lessons(1), first)
    assert (first.streaks, first.streaks["daily"], first.badges) == kept


def errors_of(text: str) -> list[str]:
    with pytest.raises(InvalidProgram) as caught:
        load_program(textwrap.dedent(text))
    return [str(e) for e in caught.value.errors]


PROGRAM = """
key: p
name: P
actions:
  - key: lesson_done
    points: 5
badges:
  - key: steady
    name: Steady
"""


def test_a_streak_must_name_an_action_of_the_program():
    errors = errors_of(
        PROGRAM
        + """
streaks:
  - key: daily
    name: Daily
    action: lesson_dne
    milestones: [{length: 7, badge: stedy}]
"""
    )
    assert errors == [
        "streaks[0].action: unknown action 'lesson_dne' (did you mean 'lesson_done'?)",
        "streaks[0].milestones[0].badge: unknown badge 'stedy' (did you mean 'steady'?)",
        "badges[0].when: is required unless a quest, a challenge or a streak milestone awards it",
    ]


def test_streak_values_are_checked_with_their_paths():
    errors = errors_of(
        PROGRAM
        + """
    when: {action: lesson_done}
streaks:
  - key: daily
    name: Daily
    action: lesson_done
    grace: 7
    freezes: {every: 0, max: 3}
    milestones: [{length: 7, points: 5}, {length: 7, points: 9}]
  - key: daily
    name: Weekly
    action: lesson_done
    period: month
    grace: 1
    milestone: []
"""
    )
    assert errors == [
        "streaks[0].grace: must be <= 6 for a daily streak (missed days forgiven per calendar week)",
        "streaks[0].freezes.every: must be >= 1",
        "streaks[0].milestones: length 7 is listed twice",
        "streaks[1].period: must be one of 'day' or 'week'",
        "streaks[1].milestone: unknown key 'milestone' (did you mean 'milestones'?)",
        "streaks[1].key: 'daily' is already used by streaks[0]",
    ]


def test_weekly_grace_is_at_most_three_weeks_a_month():
    errors = errors_of(
        PROGRAM
        + """
    when: {action: lesson_done}
streaks:
  - {key: weekly, name: Weekly, action: lesson_done, period: week, grace: 4}
"""
    )
    assert errors == [
        "streaks[0].grace: must be <= 3 for a weekly streak (missed weeks forgiven per calendar month)"
    ]


def test_a_badge_only_a_milestone_awards_needs_no_rule():
    source = (
        PROGRAM
        + "streaks: [{key: d, name: D, action: lesson_done, milestones: [{length: 3, badge: steady}]}]"
    )
    assert load_program(source).badges[0].when is None
