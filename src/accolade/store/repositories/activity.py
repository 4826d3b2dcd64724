"""The analytics rollup of activity: per event type and calendar month or week (cut in the
program's zone), the members with an event of that type logged in it, as bitmaps of member ids
in the shape of engagement_members (repositories/engagement.py).

"Which members were active in this month" is what retention asks once per period of its range:
read from the log's index, each is a distinct set of a month's events (~250k on the bench's
log, ~80 ms on either database, three of them in a quarter's cohorts). From here it is a few
hundred rows of bits.

Ingest keeps it with the engagement rollup (EngagementRollup.add's ``logged``), in the
transaction that logs the events. A reversal clears no bit (a bit may stand for several
events, and other writers OR into the same rows): a reader takes the members with a reversed
event in the period (ix_events_reversed, which no row enters at ingest) and keeps only those
who still have an event in force there. Replay rebuilds it in the program's zone, which may
have changed since; until then, a zone's rows answer only that zone's reports.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, delete, exists, func, or_, select

from accolade.engine.windows import local_ordinal
from accolade.store.repositories._base import RepositoryBase
from accolade.store.repositories.analytics import AnalyticsRepository, Periods
from accolade.store.repositories.engagement import (
    BLOCK,
    WORDS,
    EngagementRepository,
    EngagementRollup,
    whole_span,
)
from accolade.store.tables import activity_members, events

_BLOCK_BYTES = BLOCK // 8
_PACK = struct.Struct(f"<{WORDS}q")  # a block's words as the bytes of its member ids' bits
_WORDS = tuple(f"w{i}" for i in range(WORDS))
_CHUNK = 500  # member ids per IN list


class ActivityRepository(RepositoryBase):
    def clear(self, program_id: int) -> None:
        am = activity_members
        self.conn.execute(delete(am).where(am.c.program_id == program_id))

    def rebuild(self, program_id: int, zone: ZoneInfo) -> None:
        """The rollup again from the log, cut in ``zone`` (the revision that adds it fills it
        this way; replay too)."""
        self.clear(program_id)
        rows = self.conn.execute(
            select(events.c.member_id, events.c.occurred_at, events.c.type).where(
                events.c.program_id == program_id, events.c.kind == "event"
            )
        ).yield_per(20_000)
        keep = EngagementRepository(self.conn).keep
        rollup = EngagementRollup(zone)
        for member_id, at, type_ in rows:
            rollup.add(member_id, at, (), logged=type_)
            if len(rollup.activity) >= 50_000:
                keep(program_id, rollup)
                rollup = EngagementRollup(zone)
        keep(program_id, rollup)

    def active(
        self, program_id: int, zone: ZoneInfo, periods: Periods, types: Sequence[str] | None
    ) -> dict[int, bytearray]:
        """Per index of a whole month or week of ``periods`` (not cut short by the range), the
        members with an event in force of ``types`` (of any type when None) in it, as bits:
        member id ``m`` is bit ``m % 8`` of byte ``m // 8`` (ids past the end: not active). Periods
        left out are to be read from the log, and all of them are when rows were cut in
        another zone than ``zone`` (it changed, and no replay has rebuilt them since)."""
        name = str(zone)
        if self._other_zone(program_id, name):
            return {}
        bounds = [*periods.starts, periods.end]
        days = [local_ordinal(int(at.timestamp()), zone) for at in bounds]
        whole = {
            i: span
            for i in range(len(periods.labels))
            if (span := whole_span(days[i], days[i + 1]))
        }
        if not whole:
            return {}
        merged = self._blocks(program_id, name, whole, types)
        found: dict[int, bytearray] = {}
        for i in whole:
            blocks = merged.get(i, {})
            bits = found[i] = bytearray(_BLOCK_BYTES * (max(blocks, default=-1) + 1))
            for block, words in blocks.items():
                start = block * _BLOCK_BYTES
                bits[start : start + _BLOCK_BYTES] = _PACK.pack(*words)
            reversed_ = self._reversed(program_id, bounds[i], bounds[i + 1], types)
            for member_id in reversed_ - self._in_force(
                program_id, bounds[i], bounds[i + 1], types, reversed_
            ):
                bits[member_id >> 3] &= ~(1 << (member_id & 7)) & 0xFF
        return found

    def window(
        self,
        program_id: int,
        zone: ZoneInfo,
        start: datetime,
        end: datetime,
        types: Sequence[str] | None,
    ) -> bytearray | None:
        """The members with an event in force of ``types`` in [start, end), as ``active``
        gives a period's: the whole months and weeks from ``start`` on from the rollup, the
        rest up to ``end`` from the log. None when the rollup has no part in it (``start`` is
        not the first moment of a local month or week, or rows were cut in another zone)."""
        bounds = [start]
        while after := [b for b in _span_ends(bounds[-1], zone) if b <= end]:
            bounds.append(after[0])
        if len(bounds) < 2:
            return None
        labels = tuple(str(i) for i in range(len(bounds) - 1))
        found = self.active(
            program_id, zone, Periods(labels, tuple(bounds[:-1]), bounds[-1]), types
        )
        if len(found) < len(labels):
            return None
        size = max(len(b) for b in found.values())
        either = 0
        for part in found.values():
            either |= int.from_bytes(part, "little")
        bits = bytearray(either.to_bytes(size, "little"))
        if bounds[-1] < end:
            rest = self._members(program_id, bounds[-1], end, types, reversed_=False)
            for member_id in self.conn.execute(rest).scalars():
                if member_id >> 3 >= len(bits):
                    bits.extend(bytes((member_id >> 3) + 1 - len(bits)))
                bits[member_id >> 3] |= 1 << (member_id & 7)
        return bits

    def _other_zone(self, program_id: int, zone: str) -> bool:
        am = activity_members
        other = [
            exists().where(am.c.program_id == program_id, test)
            for test in (am.c.zone < zone, am.c.zone > zone)
        ]
        return bool(self.conn.execute(select(or_(*other))).scalar())

    def _blocks(
        self,
        program_id: int,
        zone: str,
        whole: dict[int, tuple[str, int]],
        types: Sequence[str] | None,
    ) -> dict[int, dict[int, tuple[int, ...]]]:
        """Period index -> block -> its words, the types' and slots' rows ORed."""
        am = activity_members
        where = [
            am.c.program_id == program_id,
            am.c.zone == zone,
            or_(*(and_(am.c.span == sp, am.c.first_day == f) for sp, f in sorted(whole.values()))),
        ]
        if types is not None:
            where.append(am.c.type.in_(types))
        period_of = {span: i for i, span in whole.items()}
        merged: dict[int, dict[int, tuple[int, ...]]] = {}
        if self.dialect == "postgresql":
            # a key's slots and the types ORed by the database: a row per block, not per
            # (type, block, slot)
            words = [func.bit_or(am.c[w]) for w in _WORDS]
            query = select(am.c.span, am.c.first_day, am.c.block, *words).where(*where)
            for span, first, block, *ors in self.conn.execute(
                query.group_by(am.c.span, am.c.first_day, am.c.block)
            ):
                merged.setdefault(period_of[(span, first)], {})[block] = tuple(ors)
            return merged
        rows = self.conn.execute(
            select(am.c.span, am.c.first_day, am.c.block, *am.c[_WORDS]).where(*where)
        )
        for span, first, block, *row in rows:
            blocks = merged.setdefault(period_of[(span, first)], {})
            known = blocks.get(block)
            blocks[block] = tuple(row) if known is None else tuple(map(int.__or__, known, row))
        return merged

    def _reversed(
        self, program_id: int, start: datetime, end: datetime, types: Sequence[str] | None
    ) -> set[int]:
        """Members with a reversed event of ``types`` in [start, end): their bits may stand
        for events no longer in force."""
        query = self._members(program_id, start, end, types, reversed_=True)
        return set(self.conn.execute(query).scalars())

    def _in_force(
        self,
        program_id: int,
        start: datetime,
        end: datetime,
        types: Sequence[str] | None,
        members: Iterable[int],
    ) -> set[int]:
        """Which of ``members`` have an event in force of ``types`` in [start, end)."""
        query = self._members(program_id, start, end, types, reversed_=False)
        wanted = sorted(members)
        found: set[int] = set()
        for i in range(0, len(wanted), _CHUNK):
            chunk = query.where(events.c.member_id.in_(wanted[i : i + _CHUNK]))
            found.update(self.conn.execute(chunk).scalars())
        return found

    def _members(
        self,
        program_id: int,
        start: datetime,
        end: datetime,
        types: Sequence[str] | None,
        *,
        reversed_: bool,
    ) -> Select[Any]:
        """The distinct members with an event of ``types`` in [start, end), in force or
        reversed (the latter read from ix_events_reversed)."""
        bound = AnalyticsRepository(self.conn).bound
        query = select(events.c.member_id).where(
            events.c.program_id == program_id,
            events.c.kind == "event",
            events.c.reversed_by.is_not(None) if reversed_ else events.c.reversed_by.is_(None),
            events.c.occurred_at >= bound(start),
            events.c.occurred_at < bound(end),
        )
        if types is not None:
            query = query.where(events.c.type.in_(types))
        return query.distinct()


def _span_ends(at: datetime, zone: ZoneInfo) -> list[datetime]:
    """The ends of the local month and of the week (from Monday) that start at ``at``, the
    month's first; none when ``at`` is not a local midnight that starts one."""
    local = at.astimezone(zone)
    if (local.hour, local.minute, local.second, local.microsecond) != (0, 0, 0, 0):
        return []
    day = local.date()
    ends = []
    if day.day == 1:
        ends.append((day + timedelta(days=32)).replace(day=1))
    if day.weekday() == 0:
        ends.append(day + timedelta(days=7))
    return [datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC) for d in ends]
