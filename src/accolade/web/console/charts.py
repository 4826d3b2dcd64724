"""The geometry of the console's charts, drawn by the templates as inline SVG (the console runs
no script): bars scaled to the largest figure, the retention heatmap's shades, and the 95%
intervals of an experiment's lifts on one axis around zero. Also how a figure is written."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from accolade.engine.money import currency_places
from accolade.service.experiments import OutcomeRow

DASH = "\u2013"  # an empty figure
SHADES = 10  # the heatmap's shades: heat-0 (none active) .. heat-10 (all)


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the figure, written as the table writes it
    width: float  # of 100


@dataclass(frozen=True)
class HeatCell:
    offset: int
    row: dict[str, Any]  # the report's row (for the link to its members)
    text: str
    shade: int  # 0..SHADES


@dataclass(frozen=True)
class HeatRow:
    period: str
    group: str | None
    cohort: int
    cells: list[HeatCell]


@dataclass(frozen=True)
class Heatmap:
    offsets: list[int]
    rows: list[HeatRow]


@dataclass(frozen=True)
class Interval:
    """One outcome's lift on the chart's axis (0..100): its interval and its estimate; None
    where the report has no interval."""

    metric: str
    low: float | None
    high: float | None
    estimate: float | None


@dataclass(frozen=True)
class Intervals:
    zero: float  # where the difference 0 is on the axis
    rows: list[Interval]


def figure(value: Any, kind: str, currency: str | None = None) -> str:
    """A figure as the console writes it: rates as percentages, money in major units with its
    currency, counts with thousands separators; an empty figure as a dash."""
    if value is None:
        return DASH
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "days":
        return f"{value:,.2f}"
    if kind == "money" and currency:
        places = currency_places(currency)
        return f"{value / 10**places:,.{places}f} {currency}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def outcome_figure(value: float | None, row: OutcomeRow, difference: bool = False) -> str:
    """An experiment's figure: a rate's share as a percentage (its difference in percentage
    points), a mean per member to two places."""
    if value is None:
        return DASH
    if row.kind == "rate":
        return f"{value * 100:+.1f} pp" if difference else f"{value * 100:.1f}%"
    return f"{value:+,.2f}" if difference else f"{value:,.2f}"


def bars(
    rows: Sequence[dict[str, Any]],
    measure: str,
    kind: str,
    label: Callable[[dict[str, Any]], str],
) -> list[Bar]:
    """A bar per row of ``measure``, scaled to the largest (a negative or empty figure: no
    bar); a rate on a scale of 100%."""
    values = [row.get(measure) or 0 for row in rows]
    top = 1.0 if kind == "rate" else max([abs(v) for v in values] + [0])
    return [
        Bar(
            label(row),
            figure(row.get(measure), kind, row.get("currency")),
            round(100 * max(v, 0) / top, 2) if top else 0.0,
        )
        for row, v in zip(rows, values, strict=True)
    ]


def heatmap(rows: Sequence[dict[str, Any]], grouped: bool) -> Heatmap:
    """Retention's rows as cohorts (period of activation, and group) by offset."""
    found: dict[tuple[str, str | None], HeatRow] = {}
    offsets: set[int] = set()
    for row in rows:
        key = (row["period"], row.get("group") if grouped else None)
        line = found.setdefault(key, HeatRow(key[0], key[1], row["cohort"], []))
        rate = row["rate"]
        shade = round(rate * SHADES) if rate is not None else 0
        line.cells.append(HeatCell(row["offset"], row, figure(rate, "rate"), shade))
        offsets.add(row["offset"])
    return Heatmap(sorted(offsets), list(found.values()))


def intervals(outcomes: Sequence[OutcomeRow]) -> Intervals:
    """Each outcome's difference and 95% interval on one axis. Outcomes of different units
    share it only in position; each is scaled to its own widest end, so that every interval
    is readable and zero sits in the same place."""
    rows = []
    for o in outcomes:
        ends = [abs(v) for v in (o.ci_low, o.ci_high, o.difference) if v is not None]
        scale = max([*ends, 0.0]) or 1.0

        def at(v: float | None, scale: float = scale) -> float | None:
            return None if v is None else round(50 + 45 * v / scale, 2)

        rows.append(Interval(o.metric, at(o.ci_low), at(o.ci_high), at(o.difference)))
    return Intervals(50.0, rows)
