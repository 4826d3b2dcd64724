"""The analytics rollup of firsts: each member's first event in force of each type, so that
"first invited / activated / qualified when" never scans the whole log (a member's first event
of any type is the earliest of these).

Kept in the transaction that logs events (``keep``, from the batch's rows of the log) or
reverses one (``recount``); replay rebuilds it from the log (``rebuild``). Reads are in
repositories/analytics.py.
"""

from __future__ import annotations

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
    def keep(self, program_id: int, ids: range) -> None:
        """Note the events just logged with log ids in ``ids``: their firsts grouped by the
        database from the batch's own rows. A dict in Python, then a parameter row or array
        element per pair, cost more: per 100k events 0.215 s against 0.15-0.17 s on SQLite
        (0.12 s since it no longer sorts), 0.56 s against 0.37-0.41 s on PostgreSQL (whose
        driver dumps arrays element by element in Python). On PostgreSQL the range may hold other writers' rows (ids drawn
        from one sequence): only committed ones are seen, those still in force count, and
        counting an event twice changes no first."""
        mark = self._mark
        in_force = (
            f"FROM events WHERE id >= {mark} AND id < {mark} AND program_id = {mark} "
            # The events, not their reversals' rows, written so that no partial index of the
            # log's (on kind = 'event') matches: the range of ids is what to read.
            "AND kind <> 'reversal' AND reversed_by IS NULL"
        )
        if self.dialect == "sqlite":
            # One writer: no lock order to keep, so no sort. Each row probes its pair, and
            # the upsert keeps the earliest (of the batch's too).
            self.conn.exec_driver_sql(
                f"INSERT INTO member_firsts ({', '.join(_COLUMNS)}) "
                f"SELECT {mark}, type, member_id, occurred_at {in_force} {_UPSERT}",
                (program_id, ids.start, ids.stop, program_id),
            )
            return
        # Grouped (a statement may not upsert a row twice), in one lock order for every writer.
        self.conn.exec_driver_sql(
            f"INSERT INTO member_firsts ({', '.join(_COLUMNS)}) "
            f"SELECT CAST({mark} AS BIGINT), type, member_id, min(occurred_at) {in_force} "
            f"GROUP BY type, member_id ORDER BY type, member_id {_UPSERT}",
            (program_id, ids.start, ids.stop, program_id),
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
