"""Set-based reads for the analytics reports: who reached which milestone when, bucketed into
the report's periods, counted per period and segment in the database.

A report is built from *facts*: rows (member, period, value) of one measure ("invited",
"active", "points issued"). The service says which facts a metric needs (service/analytics.py);
this module turns them into SQL on both databases and aggregates them, or lists the members
behind one figure. Reversed events count nowhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Integer,
    Numeric,
    Select,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB, JSONPATH
from sqlalchemy.sql.selectable import Subquery

from accolade.store.repositories._base import RepositoryBase
from accolade.store.tables import (
    UTCDateTime,
    events,
    ledger_entries,
    member_badges,
    member_firsts,
    members,
    referrals,
)

# the log rows that are an event (the others: reversals, redemptions, refunds, expiries)
EVENT = "event"
# ledger kinds that are not points issued: spending, giving back, expiring
BALANCE_KINDS = ("redemption", "refund", "expiry")
# referrals that still count as pipeline (not disqualified, duplicate or lost)
_LIVE_REFERRALS = ("submitted", "accepted", "qualified", "opportunity", "won")


@dataclass(frozen=True)
class Milestones:
    """What counts: events of some types (``any_event``: of every type), ledger entries of a
    kind (and rule; rule "" for every rule of that kind), badges held."""

    event_types: tuple[str, ...] = ()
    any_event: bool = False
    entries: tuple[tuple[str, str], ...] = ()  # (ledger kind, rule or "")
    badges: tuple[str, ...] = ()
    any_badge: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.event_types or self.any_event or self.entries or self.badges or self.any_badge
        )


@dataclass(frozen=True)
class Periods:
    """The report's periods, consecutive: [starts[i], starts[i + 1]) is period ``labels[i]``;
    the last ends at ``end``."""

    labels: tuple[str, ...]
    starts: tuple[datetime, ...]
    end: datetime

    @property
    def start(self) -> datetime:
        return self.starts[0]


@dataclass(frozen=True)
class Fact:
    """One measure's rows: ``query`` selects (member_id, at, value[, currency]); ``count``: the
    measure is the number of distinct members (else the sum of value)."""

    measure: str
    query: Select[Any]
    count: bool = True
    currency: bool = False
    # the same rows over another range, for rows read straight from one table's index: given,
    # the fact is counted a period at a time, each period's query built with that period's
    # bounds, a range of the index of its own (counting them all at once sorts every row by
    # period first; and bounds added around the whole range's query let SQLite seek by the
    # whole range's, reading it all for each period)
    ranged: Callable[[datetime, datetime], Select[Any]] | None = None
    # the column of ``query`` this measure sums (its members: the rows where it is not null):
    # facts that share a query (the same object) are aggregated in one pass over its rows
    column: str = "value"
    # a counted fact's members in some periods (by index), already at hand for a report not
    # broken down (the activity rollup's whole months and weeks): those periods are not read
    known: Callable[[], Mapping[int, int]] | None = None


@dataclass
class Cell:
    period: str
    group: str | None
    measure: str
    members: int = 0
    value: int = 0
    currency: str | None = None


@dataclass(frozen=True)
class Grouping:
    """How members are split: None, a column of theirs, their stage, or an attribute."""

    by: str | None = None  # team | company | tier | stage | member | attribute:NAME


class AnalyticsRepository(RepositoryBase):
    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self._types: dict[int, tuple[str, ...]] = {}  # event_types, read once per unit of work

    # -- building blocks -------------------------------------------------------------------

    def occurrences(
        self,
        program_id: int,
        milestones: Milestones,
        start: datetime | None,
        end: datetime,
        value: ColumnElement[Any] | None = None,
    ) -> Select[Any]:
        """(member_id, at, value) of every time a member reached one of ``milestones`` in
        [start, end) (from the beginning when ``start`` is None); value 1 unless given (an
        expression on the events table)."""
        one: ColumnElement[Any] = value if value is not None else literal(1)
        parts: list[Select[Any]] = []
        if milestones.any_event or milestones.event_types:
            q = select(
                events.c.member_id, events.c.occurred_at.label("at"), one.label("value")
            ).where(*_in_force(program_id), events.c.occurred_at < self.bound(end))
            if start is not None:
                q = q.where(events.c.occurred_at >= self.bound(start))
            # an event of any type: a range of ix_events_analytics_types per type there is
            types = self.event_types(program_id) if milestones.any_event else milestones.event_types
            q = q.where(events.c.type.in_(types))
            parts.append(q)
        if milestones.entries:
            tests = [
                and_(ledger_entries.c.kind == kind, ledger_entries.c.rule == rule)
                if rule
                else ledger_entries.c.kind == kind
                for kind, rule in milestones.entries
            ]
            q = (
                select(
                    ledger_entries.c.member_id,
                    ledger_entries.c.occurred_at.label("at"),
                    literal(1).label("value"),
                )
                .join(events, events.c.id == ledger_entries.c.event_id)
                .where(
                    ledger_entries.c.program_id == program_id,
                    or_(*tests),
                    ledger_entries.c.points >= 0,  # not the compensation of a reversal
                    events.c.reversed_by.is_(None),
                    ledger_entries.c.occurred_at < self.bound(end),
                )
            )
            if start is not None:
                q = q.where(ledger_entries.c.occurred_at >= self.bound(start))
            parts.append(q)
        if milestones.any_badge or milestones.badges:
            q = select(
                member_badges.c.member_id,
                member_badges.c.awarded_at.label("at"),
                literal(1).label("value"),
            ).where(
                member_badges.c.program_id == program_id,
                member_badges.c.awarded_at < self.bound(end),
            )
            if start is not None:
                q = q.where(member_badges.c.awarded_at >= self.bound(start))
            if not milestones.any_badge:
                q = q.where(member_badges.c.badge.in_(milestones.badges))
            parts.append(q)
        if not parts:  # nothing defined: no rows
            return select(
                events.c.member_id, events.c.occurred_at.label("at"), literal(1).label("value")
            ).where(false())
        if len(parts) == 1:
            return parts[0]
        union = union_all(*parts).subquery()
        return select(union.c.member_id, union.c.at, union.c.value)

    def event_types(self, program_id: int) -> tuple[str, ...]:
        """The types of the program's events in force, in order: a walk of the index led by
        type, a seek per type (not a read of every event)."""
        known = self._types.get(program_id)
        if known is not None:
            return known
        walk = text(
            "WITH RECURSIVE t(type) AS ("
            f"SELECT min(type) FROM events WHERE program_id = :p AND {_IN_FORCE} "
            "UNION ALL SELECT (SELECT min(type) FROM events WHERE program_id = :p AND "
            f"{_IN_FORCE} AND type > t.type) FROM t WHERE t.type IS NOT NULL"
            ") SELECT type FROM t WHERE type IS NOT NULL"
        )
        found = tuple(self.conn.execute(walk, {"p": program_id}).scalars())
        self._types[program_id] = found
        return found

    def firsts(self, program_id: int, milestones: Milestones, end: datetime) -> Subquery:
        """(member_id, at): each member's first time reaching one of ``milestones`` before end.
        Events' firsts come from the rollup (member_firsts), not from a scan of the log."""
        parts: list[Select[Any]] = []
        if milestones.any_event or milestones.event_types:
            mf = member_firsts
            first = select(mf.c.member_id, mf.c.occurred_at.label("at")).where(
                mf.c.program_id == program_id, mf.c.occurred_at < self.bound(end)
            )
            if not milestones.any_event:  # else the earliest of every type
                first = first.where(mf.c.type.in_(milestones.event_types))
            parts.append(first)
        rest = replace(milestones, event_types=(), any_event=False)
        if rest or not parts:
            other = self.occurrences(program_id, rest, None, end).subquery()
            parts.append(select(other.c.member_id, other.c.at))
        elif not milestones.any_event and len(milestones.event_types) == 1:
            return parts[0].subquery()  # one row per member already
        occ = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
        return (
            select(occ.c.member_id, func.min(occ.c.at).label("at"))
            .group_by(occ.c.member_id)
            .subquery()
        )

    def number_property(self, name: str) -> ColumnElement[Any]:
        """An event's numeric property ``name`` (None when absent or not a number)."""
        path = f"$.properties.{_json_key(name)}"
        if self.dialect == "postgresql":
            # One JSON path, whose filter keeps numbers only: the body (text) is parsed once
            # per use, where testing the type and then reading the value parsed it twice.
            numbers = f'{path} ? (@.type() == "number")'
            found = func.jsonb_path_query_first(
                cast(events.c.body, JSONB), cast(literal(numbers), JSONPATH)
            )
            return cast(found, Float)
        kind = func.json_type(events.c.body, path)
        return case(
            (kind.in_(("integer", "real")), cast(func.json_extract(events.c.body, path), Float)),
            else_=null(),
        )

    def balance_flows(self, program_id: int, start: datetime, end: datetime) -> Select[Any]:
        """(member_id, at, issued, redeemed, expired) of every ledger entry in [start, end):
        its points in the one column its kind belongs to (redeemed and expired as positive
        amounts), NULL in the others. One read of the range serves the three measures."""
        points, kind = ledger_entries.c.points, ledger_entries.c.kind
        return select(
            ledger_entries.c.member_id,
            ledger_entries.c.occurred_at.label("at"),
            case((kind.not_in(BALANCE_KINDS), points), else_=null()).label("issued"),
            case((kind.in_(("redemption", "refund")), -points), else_=null()).label("redeemed"),
            case((kind == "expiry", -points), else_=null()).label("expired"),
        ).where(
            ledger_entries.c.program_id == program_id,
            ledger_entries.c.occurred_at >= self.bound(start),
            ledger_entries.c.occurred_at < self.bound(end),
        )

    def entries_of_rule(
        self, program_id: int, rule: str, start: datetime, end: datetime
    ) -> Select[Any]:
        """(member_id, at, value=points) of a mechanic's ledger entries in [start, end)."""
        return select(
            ledger_entries.c.member_id,
            ledger_entries.c.occurred_at.label("at"),
            ledger_entries.c.points.label("value"),
        ).where(
            ledger_entries.c.program_id == program_id,
            ledger_entries.c.rule == rule,
            ledger_entries.c.occurred_at >= self.bound(start),
            ledger_entries.c.occurred_at < self.bound(end),
        )

    def entries_with_period(
        self,
        program_id: int,
        entries: tuple[tuple[str, str], ...],
        period: str | None,
        start: datetime,
        end: datetime,
    ) -> Select[Any]:
        """Milestone occurrences of ``entries`` whose entry period (a quest's step; "" the
        quest done) is ``period`` (any when None)."""
        q = self.occurrences(program_id, Milestones(entries=entries), start, end)
        if period is not None:
            q = q.where(ledger_entries.c.period == period)
        return q

    def firsts_select(self, firsts: Subquery, both: Subquery | None = None) -> Select[Any]:
        """(member_id, at, value) of ``firsts``; with ``both``, only members also in it (at:
        the time from ``firsts``)."""
        q = select(firsts.c.member_id, firsts.c.at, literal(1).label("value"))
        if both is not None:
            q = q.join(both, both.c.member_id == firsts.c.member_id)
        return q

    def pipeline_events(
        self,
        program_id: int,
        influenced: tuple[str, ...],
        won: tuple[str, ...],
        start: datetime,
        end: datetime,
        prop: str,
        scale: int,
        currency: str,
    ) -> Select[Any]:
        """(member_id, at, influenced, won, currency) of the events of either's types in
        [start, end) that carry a number ``prop``, times ``scale``, in the column of each whose
        types hold the event's, NULL in the other. One read of the events of both: they share
        the log's pages, and read apart each read them all."""
        value = self.number_property(prop) * scale
        inner = select(
            events.c.member_id,
            events.c.occurred_at.label("at"),
            events.c.type,
            value.label("value"),
        ).where(
            *_in_force(program_id),
            events.c.type.in_(sorted({*influenced, *won})),
            events.c.occurred_at >= self.bound(start),
            events.c.occurred_at < self.bound(end),
            *self.may_hold(prop),
        )
        # OFFSET 0: PostgreSQL keeps the rows a subquery (it pulls a plain one up into this
        # select), so each row's value, an event body parsed as JSON, is computed once, not
        # once per column and test that names it
        sub = (inner.offset(0) if self.dialect == "postgresql" else inner).subquery()
        return select(
            sub.c.member_id,
            sub.c.at,
            case((sub.c.type.in_(influenced), sub.c.value), else_=null()).label("influenced"),
            case((sub.c.type.in_(won), sub.c.value), else_=null()).label("won"),
            literal(currency).label("currency"),
        ).where(sub.c.value.is_not(None))

    def may_hold(self, prop: str) -> list[ColumnElement[bool]]:
        """What the body of an event with property ``prop`` meets: its text holds the name,
        quoted, as the stored (canonical: events.canonical, orjson) body writes every key.
        A test of the text is a fraction of the cost of parsing it as JSON, and skips the
        events without it (PostgreSQL, 1M events: 70% of the pipeline types' events, whose
        parsing was a third of the report). No test for a name JSON might write otherwise
        (escaped): then every body is parsed."""
        if not all(" " <= c <= "~" and c not in '"\\' for c in prop):
            return []
        quoted = f'"{prop}"'
        if self.dialect == "postgresql":
            return [func.strpos(events.c.body, quoted) > 0]
        return [func.instr(events.c.body, quoted) > 0]

    def union(self, parts: Sequence[Select[Any]]) -> Select[Any]:
        if len(parts) == 1:
            return parts[0]
        sub = union_all(*parts).subquery()
        return select(*sub.c)

    def members_per_arm(
        self, arms: Select[Any], names: Sequence[str], q: Select[Any]
    ) -> dict[str, int]:
        """Members of ``q`` per arm (of ``names``) of ``arms`` (member_id, arm): one read of
        ``q``, a count per arm of the members in the arm's set (built once, a range of
        ix_ledger_entries_experiment). Each set is named once in the statement: an arm
        computed per row and then grouped by would be copied into the grouping, its set
        built again for each copy."""
        # each member once, then tested: testing every row of a busy range costs the more
        who = select(q.subquery().c.member_id).distinct().subquery()
        stmt = select(
            *(func.count(case((who.c.member_id.in_(_arm_set(arms, arm)), 1))) for arm in names)
        )
        row = self.conn.execute(stmt).one()
        return {arm: int(n) for arm, n in zip(names, row, strict=True)}

    def totals_per_arm(
        self, arms: Select[Any], names: Sequence[str], q: Select[Any]
    ) -> dict[str, list[tuple[float, int]]]:
        """Per arm (of ``names``) of ``arms``: (total, members) of the sums of ``q``'s values
        per member, the members whose sum is not zero counted by sum (the others' is zero: a
        report adds them as such, without reading them). Counted by sum, a mean over 50k
        members (adoption events: small whole numbers) is a few dozen rows to read."""
        sub = q.subquery()
        # the arms tested per member in the grouping by member, and the outer grouping by sum
        # over it: both aggregates, so neither database copies the tests (and builds their
        # sets again) into the outer query
        totals = (
            select(
                func.sum(sub.c.value).label("total"),
                *(
                    sub.c.member_id.in_(_arm_set(arms, arm)).label(f"in_{i}")
                    for i, arm in enumerate(names)
                ),
            )
            .group_by(sub.c.member_id)
            .subquery()
        )
        flags = [totals.c[f"in_{i}"] for i in range(len(names))]
        stmt = (
            select(totals.c.total, *flags, func.count())
            .where(totals.c.total.is_not(None), totals.c.total != 0)
            .group_by(totals.c.total, *flags)
        )
        found: dict[str, list[tuple[float, int]]] = {}
        for total, *within, n in self.conn.execute(stmt).all():
            arm = next((name for name, inside in zip(names, within, strict=True) if inside), None)
            if arm is not None:
                found.setdefault(arm, []).append((float(total), int(n)))
        return found

    def count_members(self, q: Select[Any]) -> int:
        sub = q.subquery()
        stmt = select(func.count(func.distinct(sub.c.member_id)))
        return int(self.conn.execute(stmt).scalar_one())

    def first_waits(
        self,
        program_id: int,
        outcome: Milestones,
        since: Milestones,
        periods: Periods,
        grouping: Grouping,
    ) -> dict[tuple[str, str | None], tuple[int, float]]:
        """Per period and group, of the members whose first ``outcome`` ever falls in it: how
        many they are, and the median of the days from their first ``since`` (their first
        event when they never reached it) to it. The median in the database (the middle one or
        two waits of each cell): reading every member's wait back cost more than the query."""
        first = self.firsts(program_id, outcome, periods.end)
        # When every type of the outcome is also a start (a qualified lead activates), the
        # first outcome is one of the member's starts: the start is the earlier of it and of
        # their first of the rest of ``since``, never missing, and only that rest is read.
        within = (
            bool(outcome.event_types)
            and not (outcome.any_event or outcome.entries or outcome.badges or outcome.any_badge)
            and (since.any_event or set(outcome.event_types) <= set(since.event_types))
        )
        rest = since
        if within:
            kept = tuple(t for t in since.event_types if t not in outcome.event_types)
            rest = replace(since, event_types=kept)
        rows: Any = _with_members(first, first.c.member_id, grouping)
        earlier: ColumnElement[Any] | None = None
        if rest and self.dialect == "sqlite" and not rest.any_event:
            # a lookup of each member's rows in the indexes: SQLite grouped every member's
            # starts (sorting them) and then built an index on the groups to join them (a
            # member's firsts of every type are no range of member_firsts' key: grouped)
            earlier = self._first_of(program_id, rest, periods.end, first)
        elif rest:
            start = self.firsts(program_id, rest, periods.end)
            rows = rows.outerjoin(start, start.c.member_id == first.c.member_id)
            earlier = start.c.at
        if within:
            began: ColumnElement[Any] = (
                first.c.at
                if earlier is None
                else self._earlier(first.c.at, func.coalesce(earlier, first.c.at))
            )
        else:
            # the first event, asked only of the members never activated (coalesce stops at
            # its first value): everyone's would be a pass over all their firsts
            first_event = (
                select(func.min(events.c.occurred_at))
                # The member's own events (ix_events_member_id_id). The kind as a parameter,
                # not a literal: SQLite then cannot use the partial ix_events_analytics_types,
                # which it may prefer (it holds member_id), reading the program's whole log per
                # member. No bound on the time: the first event is before the first outcome.
                .where(
                    events.c.member_id == first.c.member_id,
                    events.c.program_id == program_id,
                    events.c.kind == EVENT,
                    events.c.reversed_by.is_(None),
                )
                .scalar_subquery()
            )
            began = first_event if earlier is None else func.coalesce(earlier, first_event)
        # The waits in seconds (0 without a start), counted per value; the days (never below
        # zero, to the millisecond: SQLite's precision, julianday) of only the middle ones:
        # the days grow with the seconds, so the middle seconds give the middle days.
        seconds = func.coalesce(self.seconds_between(began, first.c.at), 0)
        waits_q = (
            select(
                self.period_of(first.c.at, periods).label("p"),
                self._group(grouping).label("g"),
                seconds.label("s"),
            )
            .select_from(rows)
            .where(first.c.at >= self.bound(periods.start))
        )
        # OFFSET 0: SQLite keeps the rows a subquery, each wait computed once (it copies a
        # plain one's expressions into the query around it, the lookups with them, which then
        # ran once per use)
        waits = waits_q.offset(0).subquery()
        # the waits counted per value, then each value's rank range from the running count: a
        # cell's middle ranks are in one or two of them (ranking every wait cost the more)
        counted = (
            select(waits.c.p, waits.c.g, waits.c.s, func.count().label("c"))
            .group_by(waits.c.p, waits.c.g, waits.c.s)
            .subquery()
        )
        within_cell = [counted.c.p, counted.c.g] if grouping.by is not None else [counted.c.p]

        def total(rows: tuple[None, int | None]) -> ColumnElement[Any]:
            # the same order for both sums, so that one sort serves them
            over = func.sum(counted.c.c).over(
                partition_by=within_cell, order_by=counted.c.s, rows=rows
            )
            return cast(over, Integer)

        ranked = select(
            counted.c.p,
            counted.c.g,
            counted.c.s,
            counted.c.c,
            (total((None, 0)) - counted.c.c).label("before"),
            total((None, None)).label("n"),
        ).subquery()
        middle = and_(
            ranked.c.before < (ranked.c.n + 2) // 2,
            ranked.c.before + ranked.c.c >= (ranked.c.n + 1) // 2,
        )
        # As a double, divided as a double: the arithmetic of the reference's Python floats.
        # Each step wraps the one before: an expression named twice is computed twice.
        clamped = (
            func.greatest(cast(ranked.c.s, Numeric), 0)
            if self.dialect == "postgresql"
            else func.max(ranked.c.s, 0.0)
        )
        days = cast(func.round(clamped, 3), Float) / literal(86400.0, Float)
        q = (
            select(ranked.c.p, ranked.c.g, func.max(ranked.c.n), func.avg(days))
            .where(middle)
            .group_by(ranked.c.p, ranked.c.g)
        )
        return {
            (periods.labels[int(period)], _text(grp)): (int(n), float(median))
            for period, grp, n, median in self.conn.execute(q)
        }

    def _first_of(
        self, program_id: int, milestones: Milestones, end: datetime, outer: Subquery
    ) -> ColumnElement[Any]:
        """The first time before ``end`` that the member of a row of ``outer`` (a subquery of
        the enclosing query, with member_id) reached one of ``milestones``: their own rows of
        each table, read from its index."""
        member = outer.c.member_id
        parts: list[Select[Any]] = []
        if milestones.any_event or milestones.event_types:
            mf = member_firsts
            part = select(mf.c.occurred_at.label("at")).where(
                mf.c.program_id == program_id,
                mf.c.member_id == member,
                mf.c.occurred_at < self.bound(end),
            )
            if not milestones.any_event:
                part = part.where(mf.c.type.in_(milestones.event_types))
            parts.append(part)
        if milestones.entries:
            occ = self.occurrences(program_id, Milestones(entries=milestones.entries), None, end)
            at = occ.selected_columns.at
            parts.append(occ.with_only_columns(at).where(ledger_entries.c.member_id == member))
        if milestones.any_badge or milestones.badges:
            only = Milestones(badges=milestones.badges, any_badge=milestones.any_badge)
            occ = self.occurrences(program_id, only, None, end)
            at = occ.selected_columns.at
            parts.append(occ.with_only_columns(at).where(member_badges.c.member_id == member))
        correlated = [p.correlate(outer) for p in parts]
        every = (union_all(*correlated) if len(parts) > 1 else correlated[0]).subquery()
        return select(func.min(every.c.at)).scalar_subquery()

    def _earlier(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        """The earlier of two stored times, neither NULL."""
        if self.dialect == "postgresql":
            return func.least(a, b)
        return func.min(a, b)

    def seconds_between(
        self, earlier: ColumnElement[Any], later: ColumnElement[Any]
    ) -> ColumnElement[Any]:
        """Seconds from ``earlier`` to ``later`` (two stored times); NULL when either is."""
        if self.dialect == "postgresql":
            return func.extract("epoch", later - earlier)
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0

    def completions(
        self, program_id: int, start: datetime, end: datetime
    ) -> dict[tuple[str, str, str], int]:
        """Members per (kind, rule, period) of quest and challenge entries in the range."""
        occ = self.occurrences(
            program_id, Milestones(entries=(("quest", ""), ("challenge", ""))), start, end
        )
        le = ledger_entries
        q = occ.add_columns(le.c.kind, le.c.rule, le.c.period).subquery()
        stmt = select(
            q.c.kind, q.c.rule, q.c.period, func.count(func.distinct(q.c.member_id))
        ).group_by(q.c.kind, q.c.rule, q.c.period)
        return {(k, r, p): int(n) for k, r, p, n in self.conn.execute(stmt)}

    def challenge_started_select(
        self,
        program_id: int,
        key: str,
        event_types: tuple[str, ...] | None,
        start: datetime,
        end: datetime,
    ) -> Select[Any]:
        """Members who moved towards a challenge in the range: an event of its goal's types
        (any event for a points goal) inside its window, or its reward."""
        # the challenge's window is applied by the caller's range and the engine's progress:
        # an event of the goal's type is a step towards it
        moved = Milestones(
            event_types=event_types or (),
            any_event=event_types is None,
            entries=(("challenge", f"challenge:{key}"),),
        )
        return self.occurrences(program_id, moved, start, end)

    def challenge_started(
        self,
        program_id: int,
        key: str,
        event_types: tuple[str, ...] | None,
        start: datetime,
        end: datetime,
    ) -> int:
        return self.count_members(
            self.challenge_started_select(program_id, key, event_types, start, end)
        )

    def badges_awarded(self, program_id: int, start: datetime, end: datetime) -> dict[str, int]:
        """Members per badge awarded in [start, end) (and still held)."""
        mb = member_badges
        q = (
            select(mb.c.badge, func.count(func.distinct(mb.c.member_id)))
            .where(
                mb.c.program_id == program_id,
                mb.c.awarded_at >= self.bound(start),
                mb.c.awarded_at < self.bound(end),
            )
            .group_by(mb.c.badge)
        )
        return {b: int(n) for b, n in self.conn.execute(q)}

    def cohorts(
        self,
        activated: Subquery,
        active: Callable[[datetime, datetime], Select[Any]],
        periods: Periods,
        grouping: Grouping,
        known: Mapping[int, bytearray] | None = None,
    ) -> tuple[dict[tuple[str, str | None], int], dict[tuple[str, str | None, int], int]]:
        """Cohort sizes per (period of activation, group), and per (period, group, offset) the
        members of the cohort active ``offset`` periods later. ``known``: the active members
        of some periods (by index) as bits, already at hand (the activity rollup's whole
        months and weeks): the cohorts' members are then read once and tested here (retention
        over 1M events: 455 -> 220 ms p50 on SQLite, 504 -> 234 on PostgreSQL).

        The other periods in one statement: the cohorts (members' first activation) computed
        once, then for each period the cohorts' members among that period's distinct active
        members, an IN test against their set. A join of the cohorts with every period's active members is a
        join of two derived tables whose sizes neither database estimates well: SQLite ran it
        as a nested loop without an index (minutes on 100k members)."""
        cohort_of = self.period_of(activated.c.at, periods)
        cohorts = (
            select(activated.c.member_id, cohort_of.label("cohort"))
            .where(activated.c.at >= self.bound(periods.start))
            .cte("cohorts")
        )
        group = self._group(grouping)
        members_of = _with_members(cohorts, cohorts.c.member_id, grouping)
        bounds = [*periods.starts, periods.end]
        sizes_part = (
            select(cohorts.c.cohort, group, literal(-1, Integer), func.count())
            .select_from(members_of)
            .group_by(*_keys(grouping, group, cohorts.c.cohort))
        )
        known = known or {}
        seen_parts = [
            select(cohorts.c.cohort, group, literal(i, Integer) - cohorts.c.cohort, func.count())
            .select_from(members_of)
            .where(
                cohorts.c.cohort <= i,
                cohorts.c.member_id.in_(self._members_of(active(bounds[i], bounds[i + 1]))),
            )
            .group_by(*_keys(grouping, group, cohorts.c.cohort))
            for i in range(len(periods.starts))
            if i not in known
        ]
        sizes: dict[tuple[str, str | None], int] = {}
        cells: dict[tuple[str, str | None, int], int] = {}
        if known:
            # each cohort's members (per group) read once, then tested against each period's
            # bits: a byte per member and period, no set built
            rows = self.conn.execute(
                select(cohorts.c.member_id, cohorts.c.cohort, group).select_from(members_of)
            ).all()
            members: dict[tuple[int, str | None], list[int]] = {}
            for member_id, c, g in rows:
                members.setdefault((int(c), _text(g)), []).append(member_id)
            top = max((r[0] for r in rows), default=0) >> 3
            bits = {i: b + bytes(max(0, top + 1 - len(b))) for i, b in known.items()}
            for (c, g), ids in members.items():
                sizes[(periods.labels[c], g)] = len(ids)
                for i in range(c, len(periods.starts)):
                    test = bits.get(i)
                    if test is not None and (n := sum([test[m >> 3] >> (m & 7) & 1 for m in ids])):
                        cells[(periods.labels[c], g, i - c)] = n
            if not seen_parts:
                return sizes, cells
            parts = seen_parts
        else:
            parts = [sizes_part, *seen_parts]
        for c, g, o, n in self.conn.execute(union_all(*parts)).all():
            if int(o) < 0:
                sizes[(periods.labels[int(c)], _text(g))] = int(n)
            elif n:
                cells[(periods.labels[int(c)], _text(g), int(o))] = int(n)
        return sizes, cells

    def cohort_members(
        self,
        activated: Subquery,
        active: Callable[[datetime, datetime], Select[Any]],
        periods: Periods,
        first: int,
        offset: int,
    ) -> Select[Any]:
        """(member_id, at=activation, 1) of cohort ``first``'s members active ``offset``
        periods after it (an IN test, as in cohorts)."""
        bounds = [*periods.starts, periods.end]
        seen = first + offset
        return select(activated.c.member_id, activated.c.at, literal(1).label("value")).where(
            activated.c.at >= self.bound(bounds[first]),
            activated.c.at < self.bound(bounds[first + 1]),
            activated.c.member_id.in_(self._members_of(active(bounds[seen], bounds[seen + 1]))),
        )

    def _members_of(self, q: Select[Any]) -> Select[Any]:
        """The members of ``q``'s rows, as a set to test against. Distinct on PostgreSQL, so
        that, taking the other side for a few rows, it does not probe the log's index once
        per member instead. Not on SQLite: the set built for IN drops repeats itself, and a
        DISTINCT first built a second one (retention over 1M events: -20%)."""
        sub = q.subquery()
        members_q = select(sub.c.member_id)
        return members_q.distinct() if self.dialect == "postgresql" else members_q

    def points_before(
        self, program_id: int, at: datetime, grouping: Grouping
    ) -> dict[str | None, int]:
        """The sum of every balance change before ``at``, per group (the opening liability)."""
        group = self._group(grouping)
        q = (
            select(group, func.coalesce(func.sum(ledger_entries.c.points), 0))
            .select_from(_with_members(ledger_entries, ledger_entries.c.member_id, grouping))
            .where(
                ledger_entries.c.program_id == program_id,
                ledger_entries.c.occurred_at < self.bound(at),
            )
            .group_by(*_keys(grouping, group))
        )
        return {_text(g): int(v) for g, v in self.conn.execute(q)}

    def referral_values(self, program_id: int, start: datetime, end: datetime) -> Select[Any]:
        """(member_id, at, influenced, won, currency) of referrals with a deal value: its value
        as influenced when submitted in the range (and still live), as won when won in it
        (the time of the last change)."""
        parts = []
        for won in (False, True):
            at = referrals.c.updated_at if won else referrals.c.submitted_at
            amount = referrals.c.amount
            q = select(
                referrals.c.member_id,
                at.label("at"),
                (null() if won else amount).label("influenced"),
                (amount if won else null()).label("won"),
                referrals.c.currency.label("currency"),
            ).where(
                referrals.c.program_id == program_id,
                amount.is_not(None),
                at >= self.bound(start),
                at < self.bound(end),
                referrals.c.status == "won" if won else referrals.c.status.in_(_LIVE_REFERRALS),
            )
            parts.append(q)
        return self.union(parts)

    # -- aggregation -----------------------------------------------------------------------

    def aggregate(self, facts: Sequence[Fact], periods: Periods, grouping: Grouping) -> list[Cell]:
        """Each fact counted (distinct members) or summed per period and group; facts that
        share a query in one pass over its rows."""
        cells: list[Cell] = []
        for shared in _by_query(facts):
            first = shared[0]
            known: Mapping[int, int] = {}
            if first.known is not None and first.ranged is not None and grouping.by is None:
                known = first.known()
                cells.extend(
                    Cell(periods.labels[i], None, first.measure, members=n)
                    for i, n in known.items()
                )
            wanted = [i for i in range(len(periods.starts)) if i not in known]
            if not wanted:
                continue
            if first.ranged is not None and (len(periods.starts) > 1 or known):
                bounds = [*periods.starts, periods.end]
                q: Any = union_all(
                    *(
                        self._counted(
                            shared,
                            first.ranged(bounds[i], bounds[i + 1]).subquery(),
                            literal(i, Integer),
                            grouping,
                            by_period=False,
                        )
                        for i in wanted
                    )
                )
            else:
                f = first.query.subquery()
                period = self.period_of(f.c.at, periods)
                q = self._counted(shared, f, period, grouping, by_period=True).where(
                    f.c.at >= self.bound(periods.start), f.c.at < self.bound(periods.end)
                )
            for row in self.conn.execute(q):
                for n, fact in enumerate(shared):
                    cell = Cell(periods.labels[int(row[0])], _text(row[1]), fact.measure)
                    if fact.count:
                        cell.members = int(row[2 + n])
                    else:
                        cell.value = round(row[2 + n] or 0)
                    if fact.currency:
                        cell.currency = row[2 + len(shared)]
                    cells.append(cell)
        return cells

    def _counted(
        self,
        shared: Sequence[Fact],
        f: Subquery,
        period: ColumnElement[Any],
        grouping: Grouping,
        *,
        by_period: bool,
    ) -> Select[Any]:
        """(period, group, each fact's measure[, currency]) of the rows of ``f``; ``period`` an
        expression of their time (``by_period``: grouped by it) or the one period's index."""
        group = self._group(grouping)
        measures = [
            func.count(func.distinct(f.c.member_id))
            if x.count
            else func.coalesce(func.sum(f.c[x.column]), 0)
            for x in shared
        ]
        columns: list[Any] = [period.label("period"), group.label("grp"), *measures]
        keys: list[Any] = _keys(grouping, group, *([period] if by_period else []))
        if shared[0].currency:
            columns.append(f.c.currency)
            keys.append(f.c.currency)
        return (
            select(*columns).select_from(_with_members(f, f.c.member_id, grouping)).group_by(*keys)
        )

    def fact_members(
        self,
        fact: Fact,
        periods: Periods,
        grouping: Grouping,
        period: str | None,
        group: str | None,
        after: str | None,
        limit: int,
    ) -> list[str]:
        """The external ids of the members behind one cell (a page, in id order)."""
        f = fact.query.subquery()
        column = self._group(grouping)
        start, end = periods.start, periods.end
        if period is not None:
            i = periods.labels.index(period)
            start = periods.starts[i]
            end = periods.starts[i + 1] if i + 1 < len(periods.starts) else periods.end
        # the cell's members as a set first, then their ids in order: joining every row of
        # the fact to its member and sorting them all costs several times more
        behind = select(f.c.member_id).where(f.c.at >= self.bound(start), f.c.at < self.bound(end))
        if fact.column != "value":  # a shared query: the rows of this measure's column
            behind = behind.where(f.c[fact.column].is_not(None))
        q = (
            select(members.c.external_id)
            .where(members.c.id.in_(behind))
            .order_by(members.c.external_id)
            .limit(limit)
        )
        if grouping.by is not None:
            q = q.where(column.is_(None) if group is None else column == group)
        if after is not None:
            q = q.where(members.c.external_id > after)
        return [r[0] for r in self.conn.execute(q)]

    def has_attribute(self, program_id: int, name: str) -> bool:
        """Whether any member of the program has attribute ``name``."""
        if self.dialect == "postgresql":
            test: ColumnElement[Any] = cast(members.c.attributes, JSONB).has_key(name)
        else:
            test = func.json_type(members.c.attributes, f"$.{_json_key(name)}").is_not(None)
        q = select(literal(1)).where(members.c.program_id == program_id, test).limit(1)
        return self.conn.execute(q).first() is not None

    def attribute_names(self, program_id: int, sample: int = 1000) -> list[str]:
        """Attribute names found on (a sample of) the program's members: for 'did you mean'."""
        q = select(members.c.attributes).where(members.c.program_id == program_id).limit(sample)
        names: set[str] = set()
        for (attrs,) in self.conn.execute(q):
            if isinstance(attrs, dict):
                names.update(attrs)
        return sorted(names)

    def _group(self, grouping: Grouping) -> ColumnElement[Any]:
        by = grouping.by
        if by is None:
            return literal_column("NULL")
        if by in ("team", "company", "tier"):
            return members.c[by]
        if by == "member":
            return members.c.external_id
        if by == "stage":
            stage: ColumnElement[Any] = (
                cast(members.c.progress, JSONB)["stage"].astext
                if self.dialect == "postgresql"
                else func.json_extract(members.c.progress, "$.stage")
            )
            return stage
        name = by.removeprefix("attribute:")
        if self.dialect == "postgresql":
            attribute: ColumnElement[Any] = cast(members.c.attributes, JSONB)[name].astext
            return attribute
        # as PostgreSQL's ->> gives it: numbers and booleans as their JSON text
        path = f"$.{_json_key(name)}"
        kind = func.json_type(members.c.attributes, path)
        return case(
            (kind == "true", "true"),
            (kind == "false", "false"),
            else_=cast(func.json_extract(members.c.attributes, path), String),
        )

    def period_of(self, at: ColumnElement[Any], periods: Periods) -> ColumnElement[Any]:
        """The index of the period holding ``at`` (rows outside every period are filtered out)."""
        if len(periods.starts) == 1:
            return literal(0, Integer)
        whens = [(at < self.bound(s), i) for i, s in enumerate(periods.starts[1:])]
        return case(*whens, else_=len(periods.starts) - 1)

    def bound(self, at: datetime) -> ColumnElement[Any]:
        """A time to compare stored times with. SQLite keeps them as text, whole seconds
        without a fraction (``_time``): the bound is written alike, so that text order is time
        order even at a boundary."""
        if self.dialect == "postgresql":
            return literal(at, UTCDateTime)
        return literal(self._time(at), String)


# what ix_events_analytics_types is partial on
_IN_FORCE = f"kind = '{EVENT}' AND reversed_by IS NULL"


def _in_force(program_id: int) -> list[ColumnElement[bool]]:
    """The program's events in force (not reversed), as ix_events_analytics_types is partial
    on them: the kind is written as a literal, since SQLite uses a partial index only when the
    query repeats its condition, and a parameter's value is not known when the plan is made."""
    return [
        events.c.program_id == program_id,
        events.c.kind == literal_column(f"'{EVENT}'"),
        events.c.reversed_by.is_(None),
    ]


def _arm_set(arms: Select[Any], arm: str) -> Select[Any]:
    """The members of ``arms`` (member_id, arm) in ``arm``."""
    given = arms.subquery()
    return select(given.c.member_id).where(given.c.arm == arm)


def _by_query(facts: Sequence[Fact]) -> list[list[Fact]]:
    """``facts`` in runs that share one query (the same object), in their order."""
    runs: dict[int, list[Fact]] = {}
    for fact in facts:
        runs.setdefault(id(fact.query), []).append(fact)
    return list(runs.values())


def _with_members(rows: Any, member_id: ColumnElement[Any], grouping: Grouping) -> Any:
    """``rows`` joined to their members when the grouping reads a member's column; alone
    otherwise (the join costs a lookup per row: most of an ungrouped report's time)."""
    if grouping.by is None:
        return rows
    return rows.join(members, members.c.id == member_id)


def _keys(grouping: Grouping, group: Any, *others: Any) -> list[Any]:
    """GROUP BY keys: ``others`` and the member's ``group`` (the very expression the select
    lists, so that PostgreSQL sees the same parameters; and not a NULL constant, which it
    refuses)."""
    return [*others, group] if grouping.by is not None else list(others)


def _json_key(name: str) -> str:
    """A JSON path step for ``name`` (quoted, so dots and spaces stay part of the name)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
