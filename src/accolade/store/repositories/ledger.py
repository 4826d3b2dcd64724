"""The ledger: entries, the badges members hold, and the sums and counts read from them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, Select, String, case, delete, func, literal, select

from accolade.engine.effects import Entry, EntryKind
from accolade.engine.expiry import BALANCE_ONLY_KINDS, ExpiryTotals
from accolade.store.repositories._base import RepositoryBase
from accolade.store.repositories.engagement import EngagementRepository
from accolade.store.tables import UTCDateTime, events, ledger_entries, member_badges, members


class NewEntry(NamedTuple):
    member_id: int
    event_id: int
    cause_id: int
    occurred_at: datetime
    entry: Entry


class LedgerRepository(RepositoryBase):
    @property
    def engagement(self) -> EngagementRepository:
        """The analytics rollup of engagement, kept with every entry written."""
        return EngagementRepository(self.conn)

    def insert_entries(
        self, program_id: int, rows: Sequence[NewEntry], now: datetime, zone: ZoneInfo
    ) -> None:
        """Entries outside ingest's hot path (replay, reversals, adjustments, redemptions,
        expiry), with the engagement rollup cut in the program's ``zone``."""
        if not rows:
            return
        self.engagement.keep_entries(program_id, rows, zone)
        when = self._time(now)
        times: dict[datetime, Any] = {}  # an event's entries share its time: format it once

        def t(value: datetime) -> Any:
            found = times.get(value)
            if found is None:
                found = times[value] = self._time(value)
            return found

        self._append(
            "ledger_entries",
            _ENTRY_COLUMNS,
            [
                _entry_row(
                    program_id, r.member_id, r.event_id, r.cause_id, r.entry, t(r.occurred_at), when
                )
                for r in rows
            ],
        )

    def apply_badges(self, program_id: int, rows: Sequence[NewEntry]) -> None:
        """Keep member_badges (who holds what now) in step with badge entries."""
        awarded = [r for r in rows if r.entry.kind is EntryKind.BADGE]
        self.revoke_badges([r for r in rows if r.entry.kind is EntryKind.BADGE_REVOKED])
        if awarded:
            self._append(
                "member_badges",
                _BADGE_COLUMNS,
                [
                    _badge_row(
                        program_id, r.member_id, r.entry, r.event_id, self._time(r.occurred_at)
                    )
                    for r in awarded
                ],
            )

    def revoke_badges(self, revoked: Sequence[NewEntry]) -> None:
        for r in revoked:
            self.conn.execute(
                delete(member_badges).where(
                    member_badges.c.member_id == r.member_id,
                    member_badges.c.badge == r.entry.rule.removeprefix("badge:"),
                    member_badges.c.period == r.entry.period,
                )
            )

    def entries_caused(self, log_ids: Sequence[int]) -> dict[int, list[dict[str, object]]]:
        """The entries each log row wrote, in order, as results show them."""
        found: dict[int, list[dict[str, object]]] = {i: [] for i in log_ids}
        if not log_ids:
            return found
        rows = self.conn.execute(
            select(
                ledger_entries.c.cause_id,
                ledger_entries.c.kind,
                ledger_entries.c.rule,
                ledger_entries.c.points,
                ledger_entries.c.period,
                ledger_entries.c.reason,
            )
            .where(ledger_entries.c.cause_id.in_(list(log_ids)))
            .order_by(ledger_entries.c.id)
        )
        for cause, kind, rule, points, period, reason in rows:
            entry: dict[str, object] = {"kind": kind, "rule": rule, "points": int(points)}
            if period:
                entry["period"] = period
            entry["reason"] = reason
            found[cause].append(entry)
        return found

    def ledger_totals(self, member_id: int) -> dict[tuple[str, str, str], tuple[int, int]]:
        rows = self.conn.execute(
            select(
                events.c.event_id,
                ledger_entries.c.rule,
                ledger_entries.c.period,
                func.sum(ledger_entries.c.points),
                func.sum(ledger_entries.c.lifetime_points),
            )
            .join(events, events.c.id == ledger_entries.c.event_id)
            .where(ledger_entries.c.member_id == member_id)
            .group_by(events.c.event_id, ledger_entries.c.rule, ledger_entries.c.period)
        )
        return {(r[0], r[1], r[2]): (int(r[3]), int(r[4])) for r in rows}

    def ledger(
        self, member_id: int, limit: int | None = None, newest_first: bool = False
    ) -> list[Row[Any]]:
        order = ledger_entries.c.id.desc() if newest_first else ledger_entries.c.id
        stmt = _ledger_of(member_id).order_by(order)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.conn.execute(stmt))

    def ledger_page(
        self,
        member_id: int,
        before: int | None,
        limit: int,
        *,
        kind: str | None = None,
        rule: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Row[Any]]:
        """Newest first, ``limit`` entries with ids below ``before`` (a cursor); only those
        of ``kind``, of ``rule``, about events that occurred in [since, until), when given."""
        stmt = _ledger_of(member_id).order_by(ledger_entries.c.id.desc()).limit(limit)
        if before is not None:
            stmt = stmt.where(ledger_entries.c.id < before)
        if kind is not None:
            stmt = stmt.where(ledger_entries.c.kind == kind)
        if rule is not None:
            stmt = stmt.where(ledger_entries.c.rule == rule)
        if since is not None:
            stmt = stmt.where(ledger_entries.c.occurred_at >= self._bound(since))
        if until is not None:
            stmt = stmt.where(ledger_entries.c.occurred_at < self._bound(until))
        return list(self.conn.execute(stmt))

    def ledger_entry(self, member_id: int, entry_id: int) -> Row[Any] | None:
        """One of the member's entries (None for another member's), with the log row it is
        about: its kind (event, redemption, refund...) and body."""
        return self.conn.execute(
            _ledger_of(member_id)
            .add_columns(events.c.kind.label("event_kind"), events.c.body.label("event_body"))
            .where(ledger_entries.c.id == entry_id)
        ).first()

    def ledger_rules(self, member_id: int) -> list[tuple[str, str]]:
        """(kind, rule) of the member's entries, each pair once, in order."""
        rows = self.conn.execute(
            select(ledger_entries.c.kind, ledger_entries.c.rule)
            .where(ledger_entries.c.member_id == member_id)
            .distinct()
            .order_by(ledger_entries.c.kind, ledger_entries.c.rule)
        )
        return [(str(kind), str(rule)) for kind, rule in rows]

    def points_by_event(self, member_id: int, prefix: str) -> dict[str, int]:
        """The member's points (net of reversals) per sender's event id starting ``prefix``."""
        rows = self.conn.execute(
            select(events.c.event_id, func.sum(ledger_entries.c.points))
            .join(events, events.c.id == ledger_entries.c.event_id)
            .where(
                ledger_entries.c.member_id == member_id,
                events.c.event_id.startswith(prefix, autoescape=True),
            )
            .group_by(events.c.event_id)
        )
        return {str(event_id): int(points or 0) for event_id, points in rows}

    def badge_counts(self, program_id: int) -> dict[str, int]:
        """Badge key -> members holding it (in any period)."""
        rows = self.conn.execute(
            select(member_badges.c.badge, func.count(func.distinct(member_badges.c.member_id)))
            .where(member_badges.c.program_id == program_id)
            .group_by(member_badges.c.badge)
        )
        return {badge: int(n) for badge, n in rows}

    def points_by_rule(
        self, program_id: int, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, int]:
        """Points issued (net of reversals; spending, refunds and expiries left out) per
        qualified rule, by events that occurred in [since, until): a compensation counts at
        the time of the event it compensates."""
        stmt = (
            select(ledger_entries.c.rule, func.sum(ledger_entries.c.points))
            .where(
                ledger_entries.c.program_id == program_id,
                ledger_entries.c.kind.not_in(BALANCE_ONLY_KINDS),
            )
            .group_by(ledger_entries.c.rule)
        )
        if since is not None:
            stmt = stmt.where(ledger_entries.c.occurred_at >= self._bound(since))
        if until is not None:
            stmt = stmt.where(ledger_entries.c.occurred_at < self._bound(until))
        return {rule: int(points) for rule, points in self.conn.execute(stmt)}

    def _bound(self, at: datetime) -> ColumnElement[Any]:
        """A time to compare stored times with. SQLite keeps them as text, written by
        ``_time`` without a fraction of a second when there is none: the bound is written
        alike, so that text order is time order at a boundary too."""
        if self.dialect == "postgresql":
            return literal(at, UTCDateTime)
        return literal(self._time(at), String)

    def badge_holdings(self, program_id: int) -> Iterator[tuple[int, str, str]]:
        """(member id, badge, period) of every badge held now, streamed."""
        stmt = (
            select(member_badges.c.member_id, member_badges.c.badge, member_badges.c.period)
            .where(member_badges.c.program_id == program_id)
            .execution_options(yield_per=5000)
        )
        for member_id, badge, period in self.conn.execute(stmt):
            yield int(member_id), badge, period

    def ledger_sums(self, member_id: int) -> tuple[int, int]:
        row = self.conn.execute(
            select(
                func.coalesce(func.sum(ledger_entries.c.points), 0),
                func.coalesce(func.sum(ledger_entries.c.lifetime_points), 0),
            ).where(ledger_entries.c.member_id == member_id)
        ).one()
        return int(row[0]), int(row[1])

    def earned_since(self, member_id: int, since: datetime) -> int:
        """Points earned (net of their reversals) by events received since ``since`` (the log
        keeps when each was received, so replay changes nothing); engine.expiry.pending says
        what is pending."""
        total = self.conn.execute(
            select(func.coalesce(func.sum(ledger_entries.c.points), 0))
            .join(events, events.c.id == ledger_entries.c.event_id)
            .where(
                ledger_entries.c.member_id == member_id,
                ledger_entries.c.kind.not_in(BALANCE_ONLY_KINDS),
                events.c.received_at >= since,
            )
        ).scalar_one()
        return int(total)

    def expiry_totals(
        self, member_ids: Sequence[int], cutoffs: Sequence[datetime]
    ) -> dict[int, ExpiryTotals]:
        """Per member: the points earned (net of reversals) by events up to each cutoff, what
        spending, refunds and earlier expiries took (a negative sum), and what expiries took."""
        if not member_ids:
            return {}
        earned = ledger_entries.c.kind.not_in(BALANCE_ONLY_KINDS)
        columns = [
            func.coalesce(
                func.sum(
                    case(
                        (
                            earned & (ledger_entries.c.occurred_at <= cutoff),
                            ledger_entries.c.points,
                        ),
                        else_=0,
                    )
                ),
                0,
            )
            for cutoff in cutoffs
        ]
        taken = func.coalesce(func.sum(case((~earned, ledger_entries.c.points), else_=0)), 0)
        expired = func.coalesce(
            func.sum(case((ledger_entries.c.kind == "expiry", ledger_entries.c.points), else_=0)),
            0,
        )
        rows = self.conn.execute(
            select(ledger_entries.c.member_id, taken, expired, *columns)
            .where(ledger_entries.c.member_id.in_(list(member_ids)))
            .group_by(ledger_entries.c.member_id)
        )
        return {
            int(r[0]): ExpiryTotals(tuple(int(v) for v in r[3:]), int(r[1]), int(r[2]))
            for r in rows
        }

    def badges_of(self, member_id: int) -> list[Row[Any]]:
        return list(
            self.conn.execute(
                select(member_badges)
                .where(member_badges.c.member_id == member_id)
                .order_by(member_badges.c.id)
            )
        )

    def badge_holders(self, program_id: int) -> dict[str, list[str]]:
        rows = self.conn.execute(
            select(members.c.external_id, member_badges.c.badge, member_badges.c.period)
            .join(members, members.c.id == member_badges.c.member_id)
            .where(member_badges.c.program_id == program_id)
            .order_by(member_badges.c.id)
        )
        held: dict[str, list[str]] = {}
        for external_id, badge, period in rows:
            held.setdefault(external_id, []).append(f"{badge} {period}".strip())
        return held

    def clear_derived(self, program_id: int) -> None:
        self.conn.execute(delete(member_badges).where(member_badges.c.program_id == program_id))
        self.conn.execute(delete(ledger_entries).where(ledger_entries.c.program_id == program_id))
        self.engagement.clear(program_id)


_ENTRY_COLUMNS = (
    "program_id",
    "member_id",
    "event_id",
    "cause_id",
    "kind",
    "rule",
    "period",
    "points",
    "lifetime_points",
    "program_version",
    "reason",
    "occurred_at",
    "recorded_at",
)
# Enum .value is a Python-level descriptor; a dict lookup is a third of the cost per entry.
_KIND_TEXT = {kind: kind.value for kind in EntryKind}

_BADGE_COLUMNS = ("program_id", "member_id", "badge", "period", "event_id", "awarded_at")


def _entry_row(
    program_id: int,
    member_id: int,
    event_pk: int,
    cause_pk: int,
    e: Entry,
    at: Any,
    when: Any,
) -> tuple[Any, ...]:
    """A ledger row in _ENTRY_COLUMNS order; ``at`` and ``when`` as RepositoryBase._time gives them."""
    return (
        program_id,
        member_id,
        event_pk,
        cause_pk,
        _KIND_TEXT[e.kind],
        e.rule,
        e.period,
        e.points,
        e.lifetime_points,
        e.version,
        e.reason,
        at,
        when,
    )


def _badge_row(
    program_id: int, member_id: int, e: Entry, event_pk: int, at: Any
) -> tuple[Any, ...]:
    """A member_badges row (in _BADGE_COLUMNS order) for a badge entry."""
    return (program_id, member_id, e.rule.removeprefix("badge:"), e.period, event_pk, at)


def _ledger_of(member_id: int) -> Select[Any]:
    """A member's entries with the sender's id and type of the event each is about."""
    return (
        select(
            ledger_entries,
            events.c.event_id.label("event_ref"),
            events.c.type.label("event_type"),
        )
        .join(events, events.c.id == ledger_entries.c.event_id)
        .where(ledger_entries.c.member_id == member_id)
    )
