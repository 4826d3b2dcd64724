"""Program analytics: activation, active members, qualified conversion, adoption, pipeline,
points liability, engagement by mechanic, completion and drop-off, retention cohorts.

Each metric is a set of *facts* (which member reached what, when) that the store counts per
period and segment (store/repositories/analytics.py); every figure can list the members behind
it. The exact definitions are in docs/analytics.md, and once more as plain Python over the log
in tests/analytics_reference.py, which the tests compare with these results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from accolade.engine.money import currency_places
from accolade.engine.windows import calendar_window
from accolade.errors import InvalidInput, NotFound
from accolade.program.analytics import Analytics
from accolade.program.checks import did_you_mean
from accolade.program.compiled import CompiledProgram
from accolade.program.models import Program
from accolade.service import Clock, system_clock
from accolade.service.programs import active
from accolade.store.repositories.activity import ActivityRepository
from accolade.store.repositories.analytics import (
    AnalyticsRepository,
    Cell,
    Fact,
    Grouping,
    Milestones,
    Periods,
)
from accolade.store.repositories.engagement import EngagementRepository
from accolade.store.unit_of_work import Store, UnitOfWork

INTERVALS = ("month", "week")
GROUPS = ("team", "company", "tier", "stage", "member")
MAX_PERIODS = 156  # three years of weeks, thirteen of months
MAX_PAGE = 1000
_DEFAULTS = Analytics()


@dataclass(frozen=True)
class Measure:
    name: str
    kind: str  # members | sum | rate | days | points | money
    description: str


@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    measures: tuple[Measure, ...]
    periods: bool = True  # rows per period (else one row per mechanic for the whole range)
    groups: bool = True  # can be broken down by a member's team, company, tier, ...


def _m(name: str, kind: str, description: str) -> Measure:
    return Measure(name, kind, description)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "activation",
            "Of the members invited in each period, how many have been activated (by the end of "
            "the range).",
            (
                _m("invited", "members", "members first invited in the period"),
                _m("activated", "members", "of those, members activated before the range ends"),
                _m("rate", "rate", "activated / invited"),
            ),
        ),
        Metric(
            "active",
            "Members who reached an `active` milestone in the period.",
            (_m("active", "members", "members with an active milestone in the period"),),
        ),
        Metric(
            "qualified",
            "Qualified conversion: members with a qualified outcome in the period, over the "
            "active members, and the time from activation to the first qualified outcome.",
            (
                _m("active", "members", "members with an active milestone in the period"),
                _m("qualified", "members", "members with a qualified event in the period"),
                _m("rate", "rate", "qualified / active"),
                _m(
                    "first_qualified",
                    "members",
                    "members whose first qualified event ever is in the period",
                ),
                _m("median_days", "days", "their median days from activation to it"),
            ),
        ),
        Metric(
            "adoption",
            "Product adoption: members with an `adopted` event in the period, and those events.",
            (
                _m("active", "members", "members with an active milestone in the period"),
                _m("adopted", "members", "members with an adoption event in the period"),
                _m("adoptions", "sum", "adoption events in the period"),
                _m("rate", "rate", "adopted / active"),
            ),
        ),
        Metric(
            "pipeline",
            "Pipeline influenced and won, in minor units per currency: the pipeline property of "
            "the `influenced` and `won` actions' events, and referrals' deal values.",
            (
                _m("influenced", "money", "value of influenced events and referrals submitted"),
                _m("won", "money", "value of won events and referrals won"),
            ),
        ),
        Metric(
            "points",
            "Points issued, redeemed and expired in the period, and the liability (spendable "
            "points outstanding) at its end.",
            (
                _m("issued", "points", "points earned, net of reversals"),
                _m("redeemed", "points", "points spent on rewards, net of refunds"),
                _m("expired", "points", "points expired"),
                _m("liability", "points", "the sum of balances at the end of the period"),
            ),
        ),
        Metric(
            "engagement",
            "Per mechanic (action, badge, quest, challenge, streak, bonus, board): the events "
            "that paid it, the members and the points.",
            (
                _m("events", "sum", "events with an entry of the mechanic"),
                _m("members", "members", "members with an entry of the mechanic"),
                _m("points", "points", "points of its entries (net of reversals)"),
            ),
            groups=False,
        ),
        Metric(
            "completion",
            "Per quest step, challenge and badge over the whole range: members who reached it, "
            "the rate against the step before (or the active members), and the drop-off.",
            (
                _m("members", "members", "members who reached it in the range"),
                _m("rate", "rate", "members / members of the step before (badges: / active)"),
                _m("drop_off", "members", "members of the step before who did not reach it"),
            ),
            periods=False,
            groups=False,
        ),
        Metric(
            "retention",
            "Cohorts by period of activation: of each cohort, members active in its period "
            "0, 1, 2, ... after.",
            (
                _m("cohort", "members", "members first activated in the period"),
                _m("active", "members", "of them, members active `offset` periods later"),
                _m("rate", "rate", "active / cohort"),
            ),
        ),
    )
}


@dataclass(frozen=True)
class Range:
    start: date  # first day, in the program's zone
    end: date  # last day (inclusive)
    interval: str
    by: str | None


@dataclass(frozen=True)
class Report:
    program: str
    metric: Metric
    range: Range
    timezone: str
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class MemberPage:
    members: list[str]
    next: str | None  # the `after` of the next page; None on the last


@dataclass
class _Context:
    repo: AnalyticsRepository
    program_id: int
    program: Program
    defs: Analytics
    periods: Periods
    grouping: Grouping
    zone: ZoneInfo
    compiled: CompiledProgram


def parse_range(
    start: date | None,
    end: date | None,
    interval: str | None,
    by: str | None,
    zone: ZoneInfo,
    clock: Clock = system_clock,
) -> Range:
    """The range asked for, checked; by default the last three months to today."""
    today = clock().astimezone(zone).date()
    end = end or today
    if start is None:
        first = end.replace(day=1)
        for _ in range(2):
            first = (first - timedelta(days=1)).replace(day=1)
        start = first
    if end < start:
        raise InvalidInput(f"the range ends ({end}) before it starts ({start})", field="to")
    interval = interval or "month"
    if interval not in INTERVALS:
        raise InvalidInput(
            f"unknown interval '{interval}' (use {' or '.join(INTERVALS)})", field="interval"
        )
    if by is not None and by not in GROUPS and not by.startswith("attribute:"):
        raise InvalidInput(
            f"cannot break down by '{by}'{did_you_mean(by, list(GROUPS))}: use "
            f"{', '.join(GROUPS)} or attribute:NAME",
            field="by",
        )
    if by == "attribute:":
        raise InvalidInput("name the attribute: attribute:NAME", field="by")
    return Range(start, end, interval, by)


def periods_of(rng: Range, zone: ZoneInfo) -> Periods:
    """The calendar periods (months or weeks, in ``zone``) that cover the range; the first and
    last are cut to the range."""
    start = datetime(rng.start.year, rng.start.month, rng.start.day, tzinfo=zone)
    last = rng.end + timedelta(days=1)
    end = datetime(last.year, last.month, last.day, tzinfo=zone)
    labels: list[str] = []
    starts: list[datetime] = []
    at = int(start.timestamp())
    stop = int(end.timestamp())
    while at < stop:
        begin, finish, label = calendar_window(at, rng.interval, zone)
        labels.append(label)
        starts.append(datetime.fromtimestamp(max(begin, int(start.timestamp())), UTC))
        at = finish
        if len(labels) > MAX_PERIODS:
            raise InvalidInput(
                f"the range holds more than {MAX_PERIODS} {rng.interval}s: ask for a shorter "
                "range or a longer interval",
                field="from",
            )
    return Periods(tuple(labels), tuple(starts), end.astimezone(UTC))


def metric_of(name: str) -> Metric:
    found = METRICS.get(name)
    if found is None:
        raise NotFound(
            f"unknown metric '{name}'{did_you_mean(name, list(METRICS))} "
            f"(known: {', '.join(METRICS)})",
            field="metric",
        )
    return found


def report(
    store: Store,
    program_key: str,
    metric: str,
    start: date | None = None,
    end: date | None = None,
    interval: str | None = None,
    by: str | None = None,
    clock: Clock = system_clock,
) -> Report:
    """One metric over a range, per period (and group)."""
    chosen = metric_of(metric)
    with store.read() as uow:
        ctx, rng = _context(uow, program_key, chosen, start, end, interval, by, clock)
        rows = _ROWS[chosen.name](ctx)
    return Report(program_key, chosen, rng, str(ctx.zone), rows)


def members(
    store: Store,
    program_key: str,
    metric: str,
    measure: str,
    *,
    start: date | None = None,
    end: date | None = None,
    interval: str | None = None,
    by: str | None = None,
    period: str | None = None,
    group: str | None = None,
    key: str | None = None,
    after: str | None = None,
    limit: int = 100,
    clock: Clock = system_clock,
) -> MemberPage:
    """The members behind one figure: ``measure`` of ``metric`` in ``period`` (every period
    when None) and ``group``; for per-mechanic metrics, ``key`` names the mechanic (or the
    quest step, ``quest:KEY/STEP``); for retention, ``key`` is the offset."""
    chosen = metric_of(metric)
    if measure not in {
        m.name for m in chosen.measures if m.kind in ("members", "sum", "money", "points")
    }:
        names = [m.name for m in chosen.measures if m.kind != "rate" and m.kind != "days"]
        raise InvalidInput(
            f"'{measure}' is not a measure of {metric} that counts members "
            f"(use {', '.join(names)})",
            field="measure",
        )
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"must be between 1 and {MAX_PAGE}", field="limit")
    with store.read() as uow:
        ctx, _ = _context(uow, program_key, chosen, start, end, interval, by, clock)
        if period is not None and period not in ctx.periods.labels:
            raise InvalidInput(
                f"'{period}' is not a period of this range ({', '.join(ctx.periods.labels)})",
                field="period",
            )
        fact = _member_fact(ctx, chosen.name, measure, key, period)
        page = ctx.repo.fact_members(
            fact, ctx.periods, ctx.grouping, period, group, after, limit + 1
        )
    more = len(page) > limit
    page = page[:limit]
    return MemberPage(page, page[-1] if more else None)


OUTCOMES = ("activated", "active", "qualified", "adoptions", "pipeline")


def outcome_occurrences(
    uow: UnitOfWork,
    program_id: int,
    compiled: CompiledProgram,
    outcome: str,
    start: datetime,
    end: datetime,
) -> Any:  # a store query (store/repositories/analytics.py)
    """(member_id, at, value) of one of OUTCOMES in [start, end), for experiment reports:
    members activated, active or qualified (rows of the milestones), adoption events (value 1
    each) or pipeline influenced (value: minor units of the pipeline currency)."""
    repo = uow.analytics
    program = compiled.definition
    defs = program.analytics or _DEFAULTS
    if outcome == "pipeline":
        if defs.pipeline is None:
            return repo.occurrences(program_id, Milestones(), start, end)
        pipe = defs.pipeline
        value = repo.number_property(pipe.property) * 10 ** currency_places(pipe.currency)
        influenced = actions(program, pipe.influenced)
        # only the events that may carry the property: the others' value is NULL, which
        # adds nothing to a member's total
        return repo.occurrences(program_id, influenced, start, end, value).where(
            *repo.may_hold(pipe.property)
        )
    what = {
        "activated": milestones(program, defs.activated),
        "active": milestones(program, defs.active),
        "qualified": actions(program, defs.qualified),
        "adoptions": actions(program, defs.adopted),
    }[outcome]
    return repo.occurrences(program_id, what, start, end)


def active_window(
    conn: Connection, program_id: int, compiled: CompiledProgram, start: datetime, end: datetime
) -> bytearray | None:
    """The members active in [start, end) as bits (member id ``m``: bit ``m % 8`` of byte
    ``m // 8``), from the activity rollup; None when it cannot answer (an active milestone
    other than events, or a window that does not start a local month or week)."""
    what = milestones(compiled.definition, (compiled.definition.analytics or _DEFAULTS).active)
    if not _in_activity(what):
        return None
    return ActivityRepository(conn).window(program_id, compiled.zone, start, end, _types(what))


# -- definitions to milestones ------------------------------------------------------------


def milestones(program: Program, names: Sequence[str]) -> Milestones:
    """`action:KEY`, `quest:KEY`, `challenge:KEY`, `badge:KEY` (or `*`) as what the store reads."""
    types: list[str] = []
    entries: list[tuple[str, str]] = []
    badges: list[str] = []
    any_event = any_badge = False
    by_key = {a.key: a.event_type for a in program.actions}
    for name in names:
        kind, _, key = name.partition(":")
        if kind == "action":
            if key == "*":
                any_event = True
            else:
                types.append(by_key[key])
        elif kind in ("quest", "challenge"):
            entries.append((kind, "" if key == "*" else f"{kind}:{key}"))
        elif key == "*":
            any_badge = True
        else:
            badges.append(key)
    return Milestones(
        tuple(sorted(set(types))), any_event, tuple(entries), tuple(badges), any_badge
    )


def actions(program: Program, keys: Sequence[str]) -> Milestones:
    return milestones(program, [f"action:{k}" for k in keys])


# -- the metrics ---------------------------------------------------------------------------


def _context(
    uow: UnitOfWork,
    program_key: str,
    metric: Metric,
    start: date | None,
    end: date | None,
    interval: str | None,
    by: str | None,
    clock: Clock,
) -> tuple[_Context, Range]:
    program = active(uow, program_key)
    zone = program.compiled.zone
    rng = parse_range(start, end, interval, by, zone, clock)
    if rng.by is not None and not metric.groups:
        raise InvalidInput(
            f"{metric.name} is reported per mechanic; it cannot be broken down by a member's "
            f"{rng.by}",
            field="by",
        )
    repo = uow.analytics
    if rng.by is not None and rng.by.startswith("attribute:"):
        name = rng.by.removeprefix("attribute:")
        if not repo.has_attribute(program.id, name):
            known = repo.attribute_names(program.id)
            raise InvalidInput(
                f"no member has the attribute '{name}'{did_you_mean(name, known)}", field="by"
            )
    definition = program.compiled.definition
    ctx = _Context(
        repo,
        program.id,
        definition,
        definition.analytics or _DEFAULTS,
        periods_of(rng, zone),
        Grouping(rng.by),
        zone,
        program.compiled,
    )
    return ctx, rng


def _occ(ctx: _Context, what: Milestones, start: datetime | None = None) -> Any:
    return ctx.repo.occurrences(ctx.program_id, what, start or ctx.periods.start, ctx.periods.end)


def _invited(ctx: _Context) -> Milestones:
    if ctx.defs.invited:
        return actions(ctx.program, ctx.defs.invited)
    return Milestones(any_event=True)


def _activation_facts(ctx: _Context) -> list[Fact]:
    repo, end = ctx.repo, ctx.periods.end
    invited = repo.firsts(ctx.program_id, _invited(ctx), end)
    activated = repo.firsts(ctx.program_id, milestones(ctx.program, ctx.defs.activated), end)
    return [
        Fact("invited", repo.firsts_select(invited)),
        Fact("activated", repo.firsts_select(invited, both=activated)),
    ]


def _active_fact(ctx: _Context) -> Fact:
    active = milestones(ctx.program, ctx.defs.active)
    known = None
    if _in_activity(active):

        def known() -> dict[int, int]:
            found = ActivityRepository(ctx.repo.conn).active(
                ctx.program_id, ctx.zone, ctx.periods, _types(active)
            )
            return {i: int.from_bytes(bits, "little").bit_count() for i, bits in found.items()}

    return Fact("active", _occ(ctx, active), ranged=_ranged(ctx, active), known=known)


def _members_active(ctx: _Context, start: datetime, end: datetime) -> int:
    """Members with an active milestone in [start, end): from the activity rollup where it
    holds them (the range's whole months and weeks from its start), else from the log."""
    bits = active_window(ctx.repo.conn, ctx.program_id, ctx.compiled, start, end)
    if bits is not None:
        return int.from_bytes(bits, "little").bit_count()
    active = milestones(ctx.program, ctx.defs.active)
    return ctx.repo.count_members(ctx.repo.occurrences(ctx.program_id, active, start, end))


def _in_activity(what: Milestones) -> bool:
    """Whether ``what`` is events only, which the activity rollup holds (its whole months and
    weeks of members with an event of some types)."""
    return not (what.entries or what.badges or what.any_badge)


def _types(what: Milestones) -> tuple[str, ...] | None:
    """The event types of ``what`` as the activity rollup is asked (None: of any type)."""
    return None if what.any_event else what.event_types


def _ranged(ctx: _Context, what: Milestones) -> Callable[[datetime, datetime], Any] | None:
    """``what``'s occurrences over any range, when they are read from one table's index (a
    fact counted a period at a time, Fact.ranged)."""
    if not _one_table(what):
        return None
    return lambda start, end: ctx.repo.occurrences(ctx.program_id, what, start, end)


def _one_table(what: Milestones) -> bool:
    """Whether ``what``'s occurrences are read from one table (events, ledger entries or badges),
    not a union of them: such a fact is counted a period at a time (Fact.ranged)."""
    event = what.any_event or bool(what.event_types)
    badge = what.any_badge or bool(what.badges)
    return event + bool(what.entries) + badge == 1


def _qualified_facts(ctx: _Context) -> list[Fact]:
    repo, end = ctx.repo, ctx.periods.end
    qualified = actions(ctx.program, ctx.defs.qualified)
    first = repo.firsts(ctx.program_id, qualified, end)
    return [
        _active_fact(ctx),
        Fact("qualified", _occ(ctx, qualified), ranged=_ranged(ctx, qualified)),
        Fact("first_qualified", repo.firsts_select(first)),
    ]


def _adoption_facts(ctx: _Context) -> list[Fact]:
    what = actions(ctx.program, ctx.defs.adopted)
    adopted, ranged = _occ(ctx, what), _ranged(ctx, what)
    return [
        _active_fact(ctx),
        Fact("adopted", adopted, ranged=ranged),
        Fact("adoptions", adopted, count=False, ranged=ranged),
    ]


def _pipeline_facts(ctx: _Context) -> list[Fact]:
    """Influenced and won from one query (a column each): referrals' deal values and, with a
    pipeline definition, the events of its actions."""
    repo, pipe, start, end = ctx.repo, ctx.defs.pipeline, ctx.periods.start, ctx.periods.end
    parts = [repo.referral_values(ctx.program_id, start, end)]
    if pipe is not None:
        scale = 10 ** currency_places(pipe.currency)
        influenced = actions(ctx.program, pipe.influenced).event_types
        won = actions(ctx.program, pipe.won).event_types
        parts.append(
            repo.pipeline_events(
                ctx.program_id, influenced, won, start, end, pipe.property, scale, pipe.currency
            )
        )
    flows = repo.union(parts)
    return [
        Fact(measure, flows, count=False, currency=True, column=measure)
        for measure in ("influenced", "won")
    ]


def _points_facts(ctx: _Context) -> list[Fact]:
    def ranged(start: datetime, end: datetime) -> Any:
        return ctx.repo.balance_flows(ctx.program_id, start, end)

    flows = ranged(ctx.periods.start, ctx.periods.end)
    return [
        Fact(measure, flows, count=False, ranged=ranged, column=measure)
        for measure in ("issued", "redeemed", "expired")
    ]


def _by_period(
    ctx: _Context, cells: list[Cell], measures: Sequence[str]
) -> dict[tuple[str, str | None], dict[str, Any]]:
    rows: dict[tuple[str, str | None], dict[str, Any]] = {}
    groups = sorted({c.group for c in cells}, key=lambda g: (g is None, g or ""))
    if ctx.grouping.by is None:
        groups = [None]
    for label in ctx.periods.labels:
        for g in groups:
            row: dict[str, Any] = {"period": label}
            if ctx.grouping.by is not None:
                row["group"] = g
            row.update({m: 0 for m in measures})
            rows[(label, g)] = row
    for c in cells:
        row = rows.setdefault(
            (c.period, c.group),
            {
                "period": c.period,
                **({"group": c.group} if ctx.grouping.by else {}),
                **{m: 0 for m in measures},
            },
        )
        row[c.measure] = c.members if c.members or not c.value else c.value
    return rows


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def _activation_rows(ctx: _Context) -> list[dict[str, Any]]:
    cells = ctx.repo.aggregate(_activation_facts(ctx), ctx.periods, ctx.grouping)
    rows = list(_by_period(ctx, cells, ("invited", "activated")).values())
    for row in rows:
        row["rate"] = _rate(row["activated"], row["invited"])
    return rows


def _active_rows(ctx: _Context) -> list[dict[str, Any]]:
    cells = ctx.repo.aggregate([_active_fact(ctx)], ctx.periods, ctx.grouping)
    return list(_by_period(ctx, cells, ("active",)).values())


def _qualified_rows(ctx: _Context) -> list[dict[str, Any]]:
    # first_qualified is counted with the waits (the same members), not by a query of its own
    facts = [f for f in _qualified_facts(ctx) if f.measure != "first_qualified"]
    cells = ctx.repo.aggregate(facts, ctx.periods, ctx.grouping)
    since = milestones(ctx.program, ctx.defs.activated)
    waits = ctx.repo.first_waits(
        ctx.program_id, actions(ctx.program, ctx.defs.qualified), since, ctx.periods, ctx.grouping
    )
    cells += [
        Cell(period, group, "first_qualified", members=n)
        for (period, group), (n, _) in waits.items()
    ]
    rows = _by_period(ctx, cells, ("active", "qualified", "first_qualified"))
    for key, row in rows.items():
        row["rate"] = _rate(row["qualified"], row["active"])
        median = waits[key][1] if key in waits else None
        row["median_days"] = round(median, 2) if median is not None else None
    return list(rows.values())


def _adoption_rows(ctx: _Context) -> list[dict[str, Any]]:
    cells = ctx.repo.aggregate(_adoption_facts(ctx), ctx.periods, ctx.grouping)
    rows = list(_by_period(ctx, cells, ("active", "adopted", "adoptions")).values())
    for row in rows:
        row["rate"] = _rate(row["adopted"], row["active"])
    return rows


def _pipeline_rows(ctx: _Context) -> list[dict[str, Any]]:
    cells = ctx.repo.aggregate(_pipeline_facts(ctx), ctx.periods, ctx.grouping)
    rows: dict[tuple[str, str | None, str], dict[str, Any]] = {}
    for c in cells:
        currency = c.currency or ""
        row = rows.setdefault(
            (c.period, c.group, currency),
            {
                "period": c.period,
                **({"group": c.group} if ctx.grouping.by else {}),
                "currency": currency,
                "influenced": 0,
                "won": 0,
            },
        )
        row[c.measure] += c.value
    order = {label: i for i, label in enumerate(ctx.periods.labels)}
    return sorted(
        rows.values(),
        key=lambda r: (
            order[r["period"]],
            r.get("group") is None,
            r.get("group") or "",
            r["currency"],
        ),
    )


def _points_rows(ctx: _Context) -> list[dict[str, Any]]:
    cells = ctx.repo.aggregate(_points_facts(ctx), ctx.periods, ctx.grouping)
    rows = _by_period(ctx, cells, ("issued", "redeemed", "expired"))
    opening = ctx.repo.points_before(ctx.program_id, ctx.periods.start, ctx.grouping)
    balance: dict[str | None, int] = defaultdict(int)
    for group, value in opening.items():
        balance[group if ctx.grouping.by else None] += value
    for (_, group), row in rows.items():  # periods in order, within each group
        balance[group] += row["issued"] - row["redeemed"] - row["expired"]
        row["liability"] = balance[group]
    return list(rows.values())


def _engagement_rows(ctx: _Context) -> list[dict[str, Any]]:
    rows = []
    rollup = EngagementRepository(ctx.repo.conn)
    for period, kind, rule, n_events, n_members, points in rollup.mechanics(
        ctx.program_id, ctx.periods, ctx.zone
    ):
        rows.append(
            {
                "period": period,
                "mechanic": rule,
                "kind": kind,
                "events": n_events,
                "members": n_members,
                "points": points,
            }
        )
    return rows


def _completion_rows(ctx: _Context) -> list[dict[str, Any]]:
    repo, pid, start, end = ctx.repo, ctx.program_id, ctx.periods.start, ctx.periods.end
    counts = repo.completions(pid, start, end)  # (kind, rule, period) -> members
    rows: list[dict[str, Any]] = []
    for quest in ctx.program.quests:
        before: int | None = None
        for position, step in enumerate(quest.steps, 1):
            n = counts.get(("quest", f"quest:{quest.key}", step.key), 0)
            rows.append(
                _completion_row(f"quest:{quest.key}/{step.key}", "quest_step", position, n, before)
            )
            before = n
        n = counts.get(("quest", f"quest:{quest.key}", ""), 0)
        rows.append(_completion_row(f"quest:{quest.key}", "quest", len(quest.steps) + 1, n, before))
    for challenge in ctx.program.challenges:
        first, last = _challenge_window(ctx, challenge.key)
        started = repo.challenge_started(
            pid, challenge.key, _challenge_types(ctx, challenge.key), first, last
        )
        done = counts.get(("challenge", f"challenge:{challenge.key}", ""), 0)
        rows.append(
            _completion_row(
                f"challenge:{challenge.key}/started", "challenge_started", 1, started, None
            )
        )
        rows.append(_completion_row(f"challenge:{challenge.key}", "challenge", 2, done, started))
    active_members = _members_active(ctx, start, end)
    held = repo.badges_awarded(pid, start, end)
    for badge in ctx.program.badges:
        n = held.get(badge.key, 0)
        rows.append(
            _completion_row(f"badge:{badge.key}", "badge", 1, n, active_members, drop=False)
        )
    return rows


def _completion_row(
    mechanic: str, kind: str, position: int, n: int, before: int | None, drop: bool = True
) -> dict[str, Any]:
    return {
        "mechanic": mechanic,
        "kind": kind,
        "position": position,
        "members": n,
        "rate": _rate(n, before) if before is not None else None,
        "drop_off": max(before - n, 0) if before is not None and drop else None,
    }


def _challenge_window(ctx: _Context, key: str) -> tuple[datetime, datetime]:
    """The range cut to the challenge's window (an empty range when they do not meet)."""
    compiled = ctx.compiled.challenges[key]
    first = max(ctx.periods.start, datetime.fromtimestamp(compiled.starts, UTC))
    last = min(ctx.periods.end, datetime.fromtimestamp(compiled.ends, UTC))
    return first, max(first, last)


def _challenge_types(ctx: _Context, key: str) -> tuple[str, ...] | None:
    """The event types that move a challenge (None: any event, for a points goal)."""
    challenge = next(c for c in ctx.program.challenges if c.key == key)
    action = challenge.goal.action
    if action is None:
        return None
    return tuple(a.event_type for a in ctx.program.actions if a.key == action)


def _retention_rows(ctx: _Context) -> list[dict[str, Any]]:
    repo = ctx.repo
    activated = repo.firsts(
        ctx.program_id, milestones(ctx.program, ctx.defs.activated), ctx.periods.end
    )
    active = milestones(ctx.program, ctx.defs.active)
    known: dict[int, bytearray] = {}
    if _in_activity(active):  # whole months and weeks from the activity rollup
        known = ActivityRepository(repo.conn).active(
            ctx.program_id, ctx.zone, ctx.periods, _types(active)
        )
    cohorts, cells = repo.cohorts(activated, _active_in(ctx), ctx.periods, ctx.grouping, known)
    rows: list[dict[str, Any]] = []
    for (label, group), size in cohorts.items():
        first = ctx.periods.labels.index(label)
        for offset in range(len(ctx.periods.labels) - first):
            n = cells.get((label, group, offset), 0)
            row: dict[str, Any] = {"period": label}
            if ctx.grouping.by is not None:
                row["group"] = group
            row.update({"offset": offset, "cohort": size, "active": n, "rate": _rate(n, size)})
            rows.append(row)
    return rows


_ROWS: dict[str, Callable[[_Context], list[dict[str, Any]]]] = {
    "activation": _activation_rows,
    "active": _active_rows,
    "qualified": _qualified_rows,
    "adoption": _adoption_rows,
    "pipeline": _pipeline_rows,
    "points": _points_rows,
    "engagement": _engagement_rows,
    "completion": _completion_rows,
    "retention": _retention_rows,
}


def _member_fact(
    ctx: _Context, metric: str, measure: str, key: str | None, period: str | None
) -> Fact:
    """The fact whose members make ``measure`` of ``metric`` (a mechanic's, with ``key``)."""
    facts: list[Fact]
    if metric == "activation":
        facts = _activation_facts(ctx)
    elif metric == "active":
        facts = [_active_fact(ctx)]
    elif metric == "qualified":
        facts = _qualified_facts(ctx)
    elif metric == "adoption":
        facts = _adoption_facts(ctx)
    elif metric == "pipeline":
        facts = _pipeline_facts(ctx)
    elif metric == "points":
        facts = _points_facts(ctx)
    elif metric == "engagement":
        facts = [_mechanic_fact(ctx, key, measure)]
    elif metric == "completion":
        facts = [_completion_fact(ctx, key)]
    else:
        facts = [_retention_fact(ctx, key, period)]
    return next(
        f
        for f in facts
        if f.measure == measure or metric in ("engagement", "completion", "retention")
    )


def _mechanic_fact(ctx: _Context, key: str | None, measure: str) -> Fact:
    if not key or ":" not in key:
        raise InvalidInput("name the mechanic, as its rows do (action:quiz_passed)", field="key")
    query = ctx.repo.entries_of_rule(ctx.program_id, key, ctx.periods.start, ctx.periods.end)
    return Fact(measure, query)


def _completion_fact(ctx: _Context, key: str | None) -> Fact:
    if not key or ":" not in key:
        raise InvalidInput(
            "name the row's mechanic (quest:KEY/STEP, quest:KEY, challenge:KEY, badge:KEY)",
            field="key",
        )
    kind, _, rest = key.partition(":")
    name, _, step = rest.partition("/")
    start, end = ctx.periods.start, ctx.periods.end
    if kind == "quest" and any(q.key == name for q in ctx.program.quests):
        entries = (("quest", f"quest:{name}"),)
        return Fact(
            "members", ctx.repo.entries_with_period(ctx.program_id, entries, step, start, end)
        )
    if kind == "challenge" and any(c.key == name for c in ctx.program.challenges):
        if step == "started":
            types = _challenge_types(ctx, name)
            start, end = _challenge_window(ctx, name)
            return Fact(
                "members",
                ctx.repo.challenge_started_select(ctx.program_id, name, types, start, end),
            )
        entries = (("challenge", f"challenge:{name}"),)
        return Fact(
            "members", ctx.repo.entries_with_period(ctx.program_id, entries, None, start, end)
        )
    if kind == "badge" and any(b.key == name for b in ctx.program.badges):
        return Fact("members", _occ(ctx, Milestones(badges=(name,))))
    raise InvalidInput(
        f"no quest step, quest, challenge or badge '{key}' in this program", field="key"
    )


def _retention_fact(ctx: _Context, key: str | None, period: str | None) -> Fact:
    if period is None:
        raise InvalidInput("name the cohort's period", field="period")
    try:
        offset = int(key or "0")
    except ValueError:
        raise InvalidInput("the offset is a whole number of periods", field="key") from None
    first = ctx.periods.labels.index(period)
    if not 0 <= offset < len(ctx.periods.labels) - first:
        raise InvalidInput(f"offset {offset} is outside the range", field="key")
    activated = ctx.repo.firsts(
        ctx.program_id, milestones(ctx.program, ctx.defs.activated), ctx.periods.end
    )
    return Fact(
        "active", ctx.repo.cohort_members(activated, _active_in(ctx), ctx.periods, first, offset)
    )


def _active_in(ctx: _Context) -> Callable[[datetime, datetime], Any]:
    """The active milestones' occurrences over any range (a period's, for cohorts)."""
    active = milestones(ctx.program, ctx.defs.active)
    return lambda start, end: ctx.repo.occurrences(ctx.program_id, active, start, end)
