"""The analytics rollup of firsts: each member's first event in force of each type, so that
"first invited / activated / qualified when" never scans the whole log (a member's first event
of any type is the earliest of these).

It holds the types the active version's analytics definitions read
(program.analytics.firsts_types), or every type when they count any event (the defaults): on
PostgreSQL the upsert of every (type, member) pair of a batch was half of what the analytics
rollups cost ingest. A release whose definitions read more types fills them from the log
(``cover``); a chunk that logged events under the version before it adds them from its own rows
(service/ingest.py). Rows of other types may remain (from before, or from ``recount``): never
read, and replaced by ``cover`` before a version reads them again.

Kept in the transaction that logs events (``keep``, from the batch's rows of the log) or
reverses one (``recount``); replay rebuilds it from the log (``rebuild``). Reads are in
repositories/analytics.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, literal_column, select

from accolade.store.repositories._base import RepositoryBase
from accolade.store.tables import events, member_firsts

_COLUMNS = ("program_id", "type", "member_id", "occurred_at")
# a logged event moves its member's first of its type only when it is earlier
_UPSERT = (
    "ON CONFLICT (program_id, type, member_id) DO UPDATE "
    "SET occurred_at = excluded.occurred_at "
    "WHERE excluded.occurred_at < member_firsts.occurred_at"
)


class FirstsRepository(RepositoryBase):
    def keep(self, program_id: int, ids: range, types: frozenset[str] | None = None) -> None:
        """Note the events just logged with log ids in ``ids`` (of ``types`` only, unless
        None): their firsts grouped by the database from the batch's own rows. For every type,
        a dict in Python, then a parameter row or array element per pair, cost more: per 100k
        events 0.215 s against 0.15-0.17 s on SQLite (0.12 s since it no longer sorts), 0.56 s
        against 0.37-0.41 s on PostgreSQL (whose driver dumps arrays element by element in
        Python); for a few types ingest finds the pairs itself (``keep_pairs``). On PostgreSQL
        the range may hold other writers' rows (ids drawn from one sequence): only committed
        ones are seen, those still in force count, and counting an event twice changes no
        first."""
        mark = self._mark
        in_force = (
            f"FROM events WHERE id >= {mark} AND id < {mark} AND program_id = {mark} "
            # The events, not their reversals' rows, written so that no partial index of the
            # log's (on kind = 'event') matches: the range of ids is what to read.
            "AND kind <> 'reversal' AND reversed_by IS NULL"
        )
        params: tuple[object, ...] = (program_id, ids.start, ids.stop, program_id)
        if types is not None:
            if not types:
                return
            in_force += f" AND type IN ({', '.join(mark for _ in types)})"
            params += tuple(sorted(types))
        if self.dialect == "sqlite":
            # One writer: no lock order to keep, so no sort. Each row probes its pair, and
            # the upsert keeps the earliest (of the batch's too).
            self.conn.exec_driver_sql(
                f"INSERT INTO member_firsts ({', '.join(_COLUMNS)}) "
                f"SELECT {mark}, type, member_id, occurred_at {in_force} {_UPSERT}",
                params,
            )
            return
        # Grouped (a statement may not upsert a row twice), in one lock order for every writer.
        self.conn.exec_driver_sql(
            f"INSERT INTO member_firsts ({', '.join(_COLUMNS)}) "
            f"SELECT CAST({mark} AS BIGINT), type, member_id, min(occurred_at) {in_force} "
            f"GROUP BY type, member_id ORDER BY type, member_id {_UPSERT}",
            params,
        )

    def keep_pairs(self, program_id: int, firsts: dict[tuple[str, int], datetime]) -> None:
        """Note the earliest time of each (type, member) of events just logged, when ingest
        keeps a few types: a row per pair, in one lock order for every writer."""
        pairs = sorted(firsts.items())
        if not pairs:
            return
        if self.dialect == "sqlite":
            self.conn.exec_driver_sql(
                f"INSERT INTO member_firsts ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?) " + _UPSERT,
                [(program_id, t, m, self._time(at)) for (t, m), at in pairs],
            )
            return
        self.conn.exec_driver_sql(
            f"INSERT INTO member_firsts ({', '.join(_COLUMNS)}) SELECT %s, t, m, a FROM "
            "unnest(%b::text[], %b::bigint[], %b::timestamptz[]) AS p(t, m, a) " + _UPSERT,
            (
                program_id,
                [t for (t, _), _ in pairs],
                [m for (_, m), _ in pairs],
                [at for _, at in pairs],
            ),
        )

    def recount(self, program_id: int, member_id: int, type_: str) -> None:
        """A member's first of ``type_`` again from the log (after one of their events was
        reversed: it counts nowhere)."""
        self.conn.execute(
            delete(member_firsts).where(
                member_firsts.c.program_id == program_id,
                member_firsts.c.type == type_,
                member_firsts.c.member_id == member_id,
            )
        )
        self._fill(program_id, member_id, type_)

    def cover(
        self, program_id: int, types: frozenset[str] | None, kept: frozenset[str] | None
    ) -> None:
        """Before a version whose definitions read ``types`` becomes active, where the active
        one kept ``kept`` (None: every type): the types not kept filled from the log, while
        ingest waits (PostgreSQL)."""
        if kept is None:
            return
        missing = None if types is None else types - kept
        if missing is not None and not missing:
            return
        if self.dialect == "postgresql":
            # Every ingest chunk locks its members' rows before it logs: one that did either
            # ends before the fill (which then reads its events) or, having read the version
            # before, waits and finds this one when it has logged them (service.ingest).
            # Exclusive, and before the facet index's SHARE lock (service.programs): a chunk
            # holding row locks then never waits for this transaction while it waits for it.
            self.conn.exec_driver_sql("LOCK TABLE members IN EXCLUSIVE MODE")
        if missing is None:
            self.rebuild(program_id)
            return
        for type_ in sorted(missing):
            self.conn.execute(
                delete(member_firsts).where(
                    member_firsts.c.program_id == program_id, member_firsts.c.type == type_
                )
            )
            self._fill(program_id, type_=type_)

    def rebuild(self, program_id: int) -> None:
        """Every firsts row of the program again from the log (replay)."""
        self.conn.execute(delete(member_firsts).where(member_firsts.c.program_id == program_id))
        self._fill(program_id)

    def _fill(
        self, program_id: int, member_id: int | None = None, type_: str | None = None
    ) -> None:
        query = select(
            events.c.program_id, events.c.type, events.c.member_id, func.min(events.c.occurred_at)
        ).where(
            events.c.program_id == program_id,
            events.c.kind == literal_column("'event'"),
            events.c.reversed_by.is_(None),
        )
        if member_id is not None:
            query = query.where(events.c.member_id == member_id)
        if type_ is not None:
            query = query.where(events.c.type == type_)
        query = query.group_by(events.c.program_id, events.c.type, events.c.member_id)
        self.conn.execute(insert(member_firsts).from_select(list(_COLUMNS), query))
