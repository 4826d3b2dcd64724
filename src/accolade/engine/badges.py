"""Badges: first action, Nth occurrence, N inside a window, all of a set, a points total."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from accolade.engine.effects import Entry, EntryKind
from accolade.engine.experiments import withheld_by, withhold
from accolade.engine.state import MemberState
from accolade.engine.windows import PERIOD_WINDOW, calendar_window, months_back, period_of
from accolade.program.compiled import CompiledProgram
from accolade.program.models import Badge


def _count(times: list[int], start: int, end: int) -> int:
    """Occurrences in [start, end]."""
    return bisect_right(times, end) - bisect_left(times, start)


def earned_period(
    program: CompiledProgram, badge: Badge, state: MemberState, ts: int
) -> str | None:
    """The period label under which ``badge`` is earned at ``ts``; None when it is not (or held)."""
    start, end, period = period_of(ts, badge.repeat, program.zone)
    if (badge.key, period) in state.badges:
        return None
    rule = badge.when
    assert rule is not None  # badges without a rule are never candidates (program.compile)
    if rule.action is not None:
        times = state.occurrences.get(rule.action, [])
        lo = max(start, ts - rule.within + 1) if rule.within is not None else start
        hi = ts if rule.within is not None else end - 1
        return period if _count(times, lo, hi) >= rule.count else None
    if rule.all_of is not None:
        ok = all(_count(state.occurrences.get(a, []), start, end - 1) > 0 for a in rule.all_of)
        return period if ok else None
    assert rule.lifetime_points is not None
    if badge.repeat == "once":
        total = state.lifetime
    else:
        label = calendar_window(ts, "month", program.zone)[2]
        span = {"year": 12, "quarter": 3, "month": 1}[PERIOD_WINDOW[badge.repeat]]
        first = calendar_window(start, "month", program.zone)[2]
        months = [m for m in months_back(label, span) if m >= first]
        total = sum(state.monthly_points.get(m, 0) for m in months)
    return period if total >= rule.lifetime_points else None


def award_badge(
    program: CompiledProgram,
    before: MemberState,
    state: MemberState,
    badge: Badge,
    period: str,
    event_id: str,
    ts: int,
    entries: list[Entry],
    reason: str | None = None,
) -> int:
    """The one way a badge is given: held for ``period`` from ``event_id`` on, with its entry
    (reason: the badge's name and period, unless given). Returns its points, for the caller to
    book; 0 when it is held for that period already, or withheld from a control group at ``ts``
    (an entry says so)."""
    if (badge.key, period) in state.badges:
        return 0
    if program.experiments_covering:
        rule = f"badge:{badge.key}"
        experiment = withheld_by(program, state, rule, ts)
        if experiment is not None:
            what = f"badge '{badge.key}' is not awarded"
            withhold(program, experiment, rule, what, event_id, entries)
            return 0
    if reason is None:
        reason = badge.name + (f" {period}" if period else "")
    state.own(before, "badges")
    state.badges[(badge.key, period)] = event_id
    entries.append(
        Entry(
            event_id,
            EntryKind.BADGE,
            f"badge:{badge.key}",
            badge.points,
            badge.points,
            reason,
            program.version,
            period,
        )
    )
    return badge.points


def grant_badge(
    program: CompiledProgram,
    before: MemberState,
    state: MemberState,
    badge_key: str,
    event_id: str,
    ts: int,
    why: str,
    entries: list[Entry],
) -> int:
    """A badge another mechanic gives (a quest, a challenge, a board): once for good, period
    "". Returns its own points, for the caller to book."""
    badge = program.badges[badge_key]
    return award_badge(
        program, before, state, badge, "", event_id, ts, entries, f"{badge.name} ({why})"
    )


_REPEAT_WORDS = {
    "yearly": "in one calendar year",
    "quarterly": "in one calendar quarter",
    "monthly": "in one calendar month",
}


def describe_badge(program: CompiledProgram, badge: Badge) -> str:
    """How ``badge`` is earned, in words a member reads: its own rule, or else the quest,
    challenge, streak or board that gives it."""
    rule = badge.when
    if rule is None:
        return " or ".join(_givers(program, badge.key)) or "given by the program team"
    names = {a.key: a.name or a.key.replace("_", " ") for a in program.definition.actions}
    period = _REPEAT_WORDS.get(badge.repeat)
    if rule.action is not None:
        text = names.get(rule.action, rule.action)
        if rule.count > 1:
            text += f", {rule.count:,} times"
        if rule.within is not None:
            text += f" within {_days(rule.within)}"
    elif rule.all_of is not None:
        text = "all of: " + "; ".join(names.get(a, a) for a in rule.all_of)
    else:
        assert rule.lifetime_points is not None
        text = (
            f"earn {rule.lifetime_points:,} points"
            if period
            else f"earn {rule.lifetime_points:,} lifetime points"
        )
    return f"{text} {period}" if period else text


def _givers(program: CompiledProgram, key: str) -> list[str]:
    """What else gives badge ``key``, in words."""
    found: list[str] = []
    for quest in program.quests.values():
        found += [f"{s.name} (quest {quest.name})" for s in quest.steps if s.badge == key]
        if quest.reward_badge == key:
            found.append(f"complete the quest {quest.name}")
    found += [
        f"reach the goal of the challenge {c.name}"
        for c in program.challenges.values()
        if c.reward_badge == key
    ]
    for streak in program.definition.streaks:
        found += [
            f"a run of {m.length} {streak.period}s of {streak.name}"
            for m in streak.milestones
            if m.badge == key
        ]
    found += [
        f"finish in the top {b.reward_top} of {b.name}"
        for b in program.leaderboards.values()
        if b.reward_badge == key and b.reward_top
    ]
    return found


def _days(seconds: int) -> str:
    if seconds % 86400 == 0:
        days = seconds // 86400
        return "1 day" if days == 1 else f"{days} days"
    hours = max(1, seconds // 3600)
    return "1 hour" if hours == 1 else f"{hours} hours"
