"""The event log: duplicate checks, appends (the ingest hot path), reversals, reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, func, select, update

from accolade.engine.effects import Entry, EntryKind
from accolade.engine.events import EVENT_SCHEMA_VERSION, Event
from accolade.store.repositories._base import RepositoryBase
from accolade.store.repositories.activity import ActivityRepository
from accolade.store.repositories.engagement import EngagementRollup
from accolade.store.repositories.firsts import FirstsRepository
from accolade.store.repositories.ledger import (
    _BADGE_COLUMNS,
    _ENTRY_COLUMNS,
    LedgerRepository,
    NewEntry,
    _badge_row,
    _entry_row,
)
from accolade.store.tables import events, experiment_decisions, ledger_entries, programs


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    id: int
    event_id: str
    member_id: int
    body_hash: str
    body: str
    notes: str | None
    status: str
    program_version: int
    reversed_by: int | None
    occurred_at: datetime


class NewLoggedEvent(NamedTuple):
    kind: str
    event_id: str
    type: str
    member_id: int
    occurred_at: datetime
    program_version: int
    schema_version: int
    body_hash: str
    body: str
    status: str
    notes: str | None


class EvaluatedEvent(NamedTuple):
    """An ingested event with what the engine made of it, ready for the log and the ledger."""

    event: Event
    body: str  # canonical
    body_hash: str
    member_id: int
    status: str
    notes: str | None  # JSON
    entries: tuple[Entry, ...]


class LogRepository(RepositoryBase):
    def __init__(self, conn: Connection, ledger: LedgerRepository) -> None:
        super().__init__(conn)
        # write_evaluated writes each event's ledger entries and badges in the same pass, and
        # keeps the analytics rollups of firsts and (with engagement) activity
        self.ledger = ledger
        self.firsts = FirstsRepository(conn)
        self.activity = ActivityRepository(conn)

    def logged_events(
        self, program_id: int, kind: str, event_ids: Sequence[str]
    ) -> dict[str, LoggedEvent]:
        """The logged rows among ``event_ids`` (the duplicate check of every chunk)."""
        found: dict[str, LoggedEvent] = {}
        for i in range(0, len(event_ids), 5000):
            part = event_ids[i : i + 5000]
            if self.dialect == "postgresql":
                # One index probe per id whatever the planner's statistics say: right after a
                # bulk load they are stale, and a plain `= ANY` then filters the whole program.
                names = ", ".join(f"e.{c.name}" for c in _LOGGED)
                rows = self.conn.exec_driver_sql(
                    f"SELECT {names} FROM unnest(%s::text[]) AS wanted(event_id) CROSS JOIN LATERAL "
                    "(SELECT * FROM events WHERE program_id = %s AND kind = %s "
                    "AND event_id = wanted.event_id LIMIT 1) AS e",
                    (list(part), program_id, kind),
                )
            else:
                rows = self.conn.execute(
                    select(*_LOGGED).where(
                        events.c.program_id == program_id,
                        events.c.kind == kind,
                        events.c.event_id.in_(part),
                    )
                )
            for r in rows:
                found[r.event_id] = _logged(r)
        return found

    def insert_events(
        self, program_id: int, rows: Sequence[NewLoggedEvent], now: datetime
    ) -> list[int]:
        """Appends to the log; returns the new rows' ids, in order."""
        if not rows:
            return []
        ids = self._allocate_ids("events", len(rows))
        when = self._time(now)
        t = self._time
        self._append(
            "events",
            _EVENT_COLUMNS,
            [
                (
                    pk,
                    program_id,
                    r.kind,
                    r.event_id,
                    r.type,
                    r.member_id,
                    t(r.occurred_at),
                    when,
                    r.program_version,
                    r.schema_version,
                    r.body_hash,
                    r.body,
                    r.status,
                    r.notes,
                )
                for pk, r in zip(ids, rows, strict=True)
            ],
        )
        return ids

    def write_evaluated(
        self,
        program_id: int,
        version: int,
        zone: ZoneInfo,
        items: Sequence[EvaluatedEvent],
        now: datetime,
        firsts: frozenset[str] | None = None,
    ) -> range:
        """The ingest hot path: log rows, their ledger entries and badge awards, each in one
        bulk statement, with every row built in a single pass; the analytics rollups (firsts,
        of the types ``firsts`` or every type; engagement and activity in the program's
        ``zone``) kept in the same pass. The log ids written."""
        if not items:
            return range(0)
        ids = self._allocate_ids("events", len(items))
        when = self._time(now)
        t = self._time
        badge = EntryKind.BADGE
        log: list[tuple[Any, ...]] = []
        ledger: list[tuple[Any, ...]] = []
        badges: list[tuple[Any, ...]] = []
        revoked: list[NewEntry] = []
        engagement = EngagementRollup(zone)
        # the firsts of a few types: found here, not by reading the batch's rows back
        first: dict[tuple[str, int], datetime] | None = None if firsts is None else {}
        kept = firsts or frozenset()
        for pk, (event, body, digest, member_id, status, notes, entries) in zip(
            ids, items, strict=True
        ):
            at = t(event.occurred_at)
            log.append(
                (
                    pk,
                    program_id,
                    "event",
                    event.id,
                    event.type,
                    member_id,
                    at,
                    when,
                    version,
                    EVENT_SCHEMA_VERSION,
                    digest,
                    body,
                    status,
                    notes,
                )
            )
            for e in entries:
                ledger.append(_entry_row(program_id, member_id, pk, pk, e, at, when))
                if e.kind is badge:
                    badges.append(_badge_row(program_id, member_id, e, pk, at))
                elif e.kind is EntryKind.BADGE_REVOKED:
                    revoked.append(NewEntry(member_id, pk, pk, event.occurred_at, e))
            engagement.add(member_id, event.occurred_at, entries, logged=event.type)
            if first is not None and event.type in kept:
                pair = (event.type, member_id)
                seen = first.get(pair)
                if seen is None or event.occurred_at < seen:
                    first[pair] = event.occurred_at
        self._append("events", _EVENT_COLUMNS, log)
        self._append("ledger_entries", _ENTRY_COLUMNS, ledger)
        self.ledger.revoke_badges(revoked)
        self._append("member_badges", _BADGE_COLUMNS, badges)
        written = range(ids[0], ids[-1] + 1)
        if first is None:
            self.firsts.keep(program_id, written)
        else:
            self.firsts.keep_pairs(program_id, first)
        self.ledger.engagement.keep(program_id, engagement)
        return written

    def mark_reversed(self, event_pk: int, reversal_pk: int) -> None:
        """The event counts nowhere from now on: the analytics firsts of its member and type
        are counted again without it."""
        reversed_ = self.conn.execute(
            update(events)
            .where(events.c.id == event_pk)
            .values(reversed_by=reversal_pk)
            .returning(events.c.program_id, events.c.member_id, events.c.type)
        ).one()
        self.firsts.recount(reversed_.program_id, reversed_.member_id, reversed_.type)

    def member_history(self, member_id: int, before_id: int | None = None) -> list[LoggedEvent]:
        """The member's events still in force (not reversed), in arrival order."""
        stmt = select(*_LOGGED).where(
            events.c.member_id == member_id,
            events.c.kind == "event",
            events.c.reversed_by.is_(None),
        )
        if before_id is not None:
            stmt = stmt.where(events.c.id < before_id)
        return [_logged(r) for r in self.conn.execute(stmt.order_by(events.c.id))]

    def log_after(self, program_id: int, after_id: int, limit: int) -> list[Any]:
        """The next ``limit`` log rows after ``after_id``: (id, kind, event_id, member_id,
        program_version, body, reversed_by). Plain SQL: replay and simulate read the whole log
        through here, and the body carries everything else (its time included)."""
        mark = "%s" if self.dialect == "postgresql" else "?"
        return list(
            self.conn.exec_driver_sql(
                "SELECT id, kind, event_id, member_id, program_version, body, reversed_by "
                "FROM events "
                f"WHERE program_id = {mark} AND id > {mark} ORDER BY id LIMIT {mark}",
                (program_id, after_id, limit),
            )
        )

    def reset_reversals(self, program_id: int) -> None:
        self.conn.execute(
            update(events)
            .where(events.c.program_id == program_id, events.c.reversed_by.is_not(None))
            .values(reversed_by=None)
        )

    def event_row(self, program_id: int, kind: str, event_id: str) -> Row[Any] | None:
        return self.conn.execute(
            select(events).where(
                events.c.program_id == program_id,
                events.c.kind == kind,
                events.c.event_id == event_id,
            )
        ).first()

    def high_water(self, program_id: int) -> tuple[int, int, int, int]:
        """What every figure derived from the log depends on, read from primary keys alone:
        the newest log row and ledger entry (of any program: a replay rewrites the ledger),
        the newest experiment decision, and the program's active version. Equal marks, equal
        figures."""
        newest = [
            select(func.coalesce(func.max(table.c.id), 0)).scalar_subquery()
            for table in (events, ledger_entries, experiment_decisions)
        ]
        version = (
            select(func.coalesce(programs.c.active_version, 0))
            .where(programs.c.id == program_id)
            .scalar_subquery()
        )
        row = self.conn.execute(select(*newest, version)).one()
        return (int(row[0]), int(row[1]), int(row[2]), int(row[3] or 0))

    def count_events(self, program_id: int) -> int:
        return int(
            self.conn.scalar(select(func.count()).where(events.c.program_id == program_id)) or 0
        )


_EVENT_COLUMNS = (
    "id",
    "program_id",
    "kind",
    "event_id",
    "type",
    "member_id",
    "occurred_at",
    "received_at",
    "program_version",
    "schema_version",
    "body_hash",
    "body",
    "status",
    "notes",
)

_LOGGED = (
    events.c.id,
    events.c.event_id,
    events.c.member_id,
    events.c.body_hash,
    events.c.body,
    events.c.notes,
    events.c.status,
    events.c.program_version,
    events.c.reversed_by,
    events.c.occurred_at,
)


def _logged(row: Any) -> LoggedEvent:
    return LoggedEvent(*row)
