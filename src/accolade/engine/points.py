"""Actions: conditions, points (fixed or from a property, with multipliers) and limits."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from accolade.engine.windows import calendar_window
from accolade.errors import InvalidEvent
from accolade.program.compiled import CompiledAction, CompiledProgram
from accolade.program.durations import format_duration


def unmet_condition(
    action: CompiledAction, props: dict[str, Any], attrs: dict[str, Any]
) -> str | None:
    """The first condition the event fails, described; None when all hold."""
    for condition in action.conditions:
        if not condition.check(props, attrs):
            return condition.describe
    return None


def base_points(action: CompiledAction, props: dict[str, Any]) -> int:
    if action.points_property is None:
        return action.points
    value = props.get(action.points_property)
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidEvent(
            f"must be a number >= 0: action '{action.key}' derives its points from it",
            field=f"properties.{action.points_property}",
        )
    points = int(Decimal(str(value)) // action.points_per) * action.points_each
    return min(points, action.points_max) if action.points_max is not None else points


def multiplied(
    action: CompiledAction,
    points: int,
    tier: str | None,
    props: dict[str, Any],
    attrs: dict[str, Any],
) -> tuple[int, str]:
    """Points after every multiplier that applies (half rounds up), and how they were reached."""
    if not action.multipliers:
        return points, ""
    factor = Decimal(1)
    applied = []
    for m in action.multipliers:
        if m.tier is not None and m.tier != tier:
            continue
        if all(c.check(props, attrs) for c in m.conditions):
            factor *= m.factor
            applied.append(f"x{m.factor}" + (f" ({m.tier})" if m.tier else ""))
    if not applied:
        return points, ""
    total = int((Decimal(points) * factor).to_integral_value(rounding=ROUND_HALF_UP))
    return total, f"{points} " + " ".join(applied)


def limit_reached(
    program: CompiledProgram, action: CompiledAction, occurrences: list[int], ts: int
) -> str | None:
    """Which limit stops an occurrence at ``ts``, in words; None when it may be rewarded."""
    if action.once and occurrences:
        return "once: already rewarded"
    if action.lifetime_cap is not None and len(occurrences) >= action.lifetime_cap:
        return f"lifetime cap: {action.lifetime_cap} reached"
    if action.cap_count is not None:
        if action.cap_calendar is not None:
            start, end, label = calendar_window(ts, action.cap_calendar, program.zone)
            count = bisect_left(occurrences, end) - bisect_left(occurrences, start)
            where = f"{action.cap_calendar} {label}"
        else:
            assert action.cap_rolling is not None
            count = _busiest_window(occurrences, ts, action.cap_rolling)
            where = f"a {action.cap_text.split(' per ')[1]} window around this event"
        if count >= action.cap_count:
            return f"cap: {action.cap_text} reached ({where})"
    if action.cooldown is not None and occurrences:
        i = bisect_left(occurrences, ts)
        near = [occurrences[j] for j in (i - 1, i) if 0 <= j < len(occurrences)]
        if any(abs(ts - o) < action.cooldown for o in near):
            return f"cooldown: {format_duration(action.cooldown)} between rewarded occurrences"
    return None


def _busiest_window(occurrences: list[int], ts: int, span: int) -> int:
    """Most occurrences in any ``span``-second window that holds ``ts``.

    A late event must not overfill a window that already-rewarded later occurrences fill, so
    every window containing ``ts`` counts, not only the one ending at it. A window's count
    only rises when its end reaches an occurrence, so the busiest one either ends at ``ts``
    or ends exactly at an occurrence after ``ts``.
    """
    later = occurrences[bisect_right(occurrences, ts) : bisect_right(occurrences, ts + span - 1)]
    starts = [ts - span + 1, *(o - span + 1 for o in later)]
    return max(
        bisect_right(occurrences, s + span - 1) - bisect_left(occurrences, s) for s in starts
    )


def record_occurrence(occurrences: dict[str, list[int]], action_key: str, ts: int) -> None:
    """Adds ``ts`` to a copy of the action's list (the caller's state is a shallow copy)."""
    times = list(occurrences.get(action_key, ()))
    insort(times, ts)
    occurrences[action_key] = times
