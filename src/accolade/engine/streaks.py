"""Streaks: the days (or weeks) in which a member did an action, the runs they make with grace
and freezes, and the milestones those runs reach.

A member keeps, per streak, only the sorted numbers of the periods done (a day is its local date's
ordinal, a week the number of its Monday's: ``(ordinal - 1) // 7``). Runs, freezes, grace and
milestones are derived from those alone, so any arrival order, a replay or a reversal gives the
same streak. A missed period between two periods done is bridged like this:

- grace: in each calendar week (daily streaks) or calendar month (weekly streaks; a week belongs
  to the month of its Monday) the first ``grace`` periods not done are forgiven, counted from the
  window's start. A forgiven period neither breaks the run nor lengthens it.
- freezes: each ``every`` periods done in a run earn a freeze, at most ``max`` held (while full,
  the count towards the next one pauses). A missed period grace does not forgive spends a freeze;
  with none held the run breaks there, and the next period done starts a new run without freezes.

Both rules only ever join runs when a period is added, never split one, so the longest run never
shrinks as events arrive: a milestone is paid once, when the longest run first reaches it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo

from accolade.engine.badges import award_badge
from accolade.engine.effects import Entry, EntryKind
from accolade.engine.state import MemberState
from accolade.engine.windows import local_ordinal, period_of
from accolade.program.compiled import CompiledProgram
from accolade.program.models import Badge, Streak

_NONE: list[int] = []


@dataclass(frozen=True)
class StreakStatus:
    """A member's streak as of a moment: what `member show` and the API report."""

    key: str
    name: str
    period: str  # day | week
    current: int  # periods done in the run still alive (0: broken, or not started)
    longest: int  # periods done in the longest run ever
    done: bool  # the current period is already done
    freezes: int  # freezes held
    grace_left: int  # missed periods still forgiven this calendar week (month, for weeks)
    next_milestone: int | None  # the shortest milestone not reached yet
    periods_to_next_milestone: int | None  # periods the current run still needs for it


def period_number(ts: int, period: str, zone: ZoneInfo) -> int:
    """The day (local date ordinal) or week (Monday-based) holding ``ts`` in ``zone``."""
    ordinal = local_ordinal(ts, zone)
    return ordinal if period == "day" else (ordinal - 1) // 7


def period_label(number: int, period: str) -> str:
    """``2026-03-02`` for a day, ``2026-W10`` (ISO week) for a week."""
    if period == "day":
        return date.fromordinal(number).isoformat()
    iso = date.fromordinal(number * 7 + 1).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


@lru_cache(maxsize=4096)
def _grace_window_start(number: int, period: str) -> int:
    """The first period of the grace window holding ``number``: the Monday of its week for a
    day, the first week whose Monday is in the same month for a week."""
    if period == "day":
        return number - (number - 1) % 7
    first = date.fromordinal(number * 7 + 1).replace(day=1).toordinal()
    first_monday = first + (1 - first) % 7
    return (first_monday - 1) // 7


def _not_done_before(done: Sequence[int], number: int, period: str) -> int:
    """Periods not done in the grace window of ``number``, before it."""
    start = _grace_window_start(number, period)
    return (number - start) - (bisect_left(done, number) - bisect_left(done, start))


def _bridge(streak: Streak, done: Sequence[int], last: int, until: int, units: int) -> int | None:
    """Freeze units left after the missed periods strictly between ``last`` and ``until``;
    None when one of them breaks the run. A freeze is ``every`` units."""
    every = streak.freezes.every if streak.freezes else 0
    for missed in range(last + 1, until):
        if streak.grace and _not_done_before(done, missed, streak.period) < streak.grace:
            continue
        if every and units >= every:
            units -= every
            continue
        return None
    return units


@dataclass(frozen=True, slots=True)
class _Walk:
    longest: int
    length: int  # of the run holding `last`
    units: int  # freeze units held at `last`
    last: int | None  # the last period done up to the "as of" period


def _walk(streak: Streak, done: Sequence[int], as_of: int | None = None) -> _Walk:
    """Every run in period order; the run holding the last period done up to ``as_of``."""
    every = streak.freezes.every if streak.freezes else 0
    cap = every * streak.freezes.max if streak.freezes else 0
    longest = length = units = 0
    last: int | None = None
    at = _Walk(0, 0, 0, None)
    for number in done:
        if last is not None and number != last + 1:
            bridged = _bridge(streak, done, last, number, units)
            if bridged is None:
                length = units = 0
            else:
                units = bridged
        length += 1
        if units < cap:
            units += 1
        if length > longest:
            longest = length
        last = number
        if as_of is not None and number <= as_of:
            at = _Walk(0, length, units, number)
    return _Walk(longest, at.length, at.units, at.last)


def longest_run(streak: Streak, done: Sequence[int]) -> int:
    """Periods done in the longest run of ``done``."""
    return _walk(streak, done).longest


def streak_status(streak: Streak, done: Sequence[int], ts: int, zone: ZoneInfo) -> StreakStatus:
    """The streak as of ``ts``: its run is broken when the periods missed since the last one
    done (the current period not counted: it is not over) are more than grace and freezes cover."""
    as_of = period_number(ts, streak.period, zone)
    walk = _walk(streak, done, as_of)
    current, freezes = 0, 0
    if walk.last is not None:
        units = _bridge(streak, done, walk.last, as_of, walk.units)
        if units is not None:
            current = walk.length
            freezes = units // streak.freezes.every if streak.freezes else 0
    ahead = [m.length for m in streak.milestones if m.length > walk.longest]
    upcoming = min(ahead) if ahead else None
    return StreakStatus(
        key=streak.key,
        name=streak.name,
        period=streak.period,
        current=current,
        longest=walk.longest,
        done=walk.last == as_of,
        freezes=freezes,
        grace_left=max(0, streak.grace - _not_done_before(done, as_of, streak.period)),
        next_milestone=upcoming,
        periods_to_next_milestone=upcoming - current if upcoming is not None else None,
    )


def record_streaks(
    program: CompiledProgram,
    state: MemberState,
    before: MemberState,
    event_id: str,
    ts: int,
    rewarded: list[str],
    entries: list[Entry],
) -> int:
    """Marks the period of ``ts`` done in every streak of the ``rewarded`` actions and pays the
    milestones the longest run reaches for the first time; returns the points paid, which the
    caller adds. ``state`` is the successor of ``before`` (copy on write, as in evaluate)."""
    paid = 0
    for action in rewarded:
        for streak in program.streaks_by_action.get(action, ()):
            paid += _record(program, streak, state, before, event_id, ts, entries)
    return paid


def _record(
    program: CompiledProgram,
    streak: Streak,
    state: MemberState,
    before: MemberState,
    event_id: str,
    ts: int,
    entries: list[Entry],
) -> int:
    number = period_number(ts, streak.period, program.zone)
    done = state.streaks.get(streak.key, _NONE)
    i = bisect_left(done, number)
    if i < len(done) and done[i] == number:
        return 0  # this period is done already: nothing changes
    state.own(before, "streaks")
    now_done = [*done[:i], number, *done[i:]]
    state.streaks[streak.key] = now_done
    if not streak.milestones:
        return 0
    reached_before = longest_run(streak, done)
    if reached_before >= max(m.length for m in streak.milestones):
        return 0  # every milestone is paid
    reached = longest_run(streak, now_done)
    paid = 0
    for milestone in sorted(streak.milestones, key=lambda m: m.length):
        if not reached_before < milestone.length <= reached:
            continue
        unit = streak.period  # day | week
        entries.append(
            Entry(
                event_id,
                EntryKind.STREAK,
                f"streak:{streak.key}",
                milestone.points,
                milestone.points,
                f"{milestone.length}-{unit} streak ({streak.name})",
                program.version,
                f"{milestone.length}{unit[0]}",
            )
        )
        paid += milestone.points
        if milestone.badge is not None:
            badge = program.badges[milestone.badge]
            paid += _award_badge(program, badge, state, before, event_id, ts, entries)
    return paid


def _award_badge(
    program: CompiledProgram,
    badge: Badge,
    state: MemberState,
    before: MemberState,
    event_id: str,
    ts: int,
    entries: list[Entry],
) -> int:
    """A milestone's badge, in the badge's own period, unless held for that period already."""
    period = period_of(ts, badge.repeat, program.zone)[2]
    return award_badge(program, before, state, badge, period, event_id, ts, entries)
