"""The analytics rollup of firsts: each member's first event in force of each type, so that
"first invited / activated / qualified when" never scans the whole log (a member's first event
of any type is the earliest of these).

Kept in the transaction that logs events (``keep``) or reverses one (``recount``); replay
rebuilds it from the log (``rebuild``). Reads are in repositories/analytics.py.

On SQLite a batch's firsts are grouped in SQL from its own rows of the log. On PostgreSQL they
are grouped in Python, and a writer that knows a member's stored first of a type
(LockedMember.firsts, kept in its member cache) skips the upsert of a later event of that
type: it cannot move the first. An upsert
that changes nothing still costs a probe of the key and, on PostgreSQL, a row lock. What may
move a first later (a reversal) bumps the member's revision, as a replay's reset does, so that
no writer trusts what it knew before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, func, insert, literal_column, select, update

from accolade.store.repositories._base import RepositoryBase
from accolade.store.tables import events, member_firsts, members

_COLUMNS = ("program_id", "type", "member_id", "occurred_at")
# a logged event moves its member's first of its type only when it is earlier
_UPSERT = (
    "ON CONFLICT (program_id, type, member_id) DO UPDATE "
    "SET occurred_at = excluded.occurred_at "
    "WHERE excluded.occurred_at < member_firsts.occurred_at"
)


class FirstsRepository(RepositoryBase):
    def keep(
        self,
        program_id: int,
        logged: Iterable[tuple[int, str, Any]],
        known: Mapping[int, Mapping[str, Any]] | None = None,
        ids: range | None = None,
    ) -> dict[tuple[str, int], Any]:
        """Note newly logged events, (member_id, type, occurred_at as the driver takes it),
        but those no earlier than what ``known`` holds for their member and type (as
        LockedMember.firsts). Returns the (type, member_id) -> time written. On SQLite, given
        ``ids`` (the events' range of log ids), they are grouped from the log instead, and
        nothing is returned."""
        if self.dialect == "sqlite" and ids is not None:
            # the batch's own rows of the log, grouped by SQLite itself: a third of the cost
            # of a dict of them in Python and a parameter row each
            self.conn.exec_driver_sql(
                f"INSERT INTO member_firsts ({', '.join(_COLUMNS)}) SELECT program_id, type, "
                "member_id, min(occurred_at) FROM events WHERE id >= ? AND id < ? "
                f"GROUP BY type, member_id {_UPSERT}",
                (ids.start, ids.stop),
            )
            return {}
        firsts: dict[tuple[str, int], Any] = {}
        nothing: Mapping[str, Any] = {}
        for member_id, type_, at in logged:
            bound = (known.get(member_id, nothing) if known else nothing).get(type_)
            if bound is not None and bound <= at:
                continue
            before = firsts.get((type_, member_id))
            if before is None or at < before:
                firsts[(type_, member_id)] = at
        if not firsts:
            return firsts
        rows = sorted(firsts.items())  # one lock order for every writer
        scratch = "type text, member_id bigint, occurred_at timestamptz"
        if self._scratch(
            "new_firsts", scratch, _COLUMNS[1:], len(rows), ((t, m, a) for (t, m), a in rows)
        ):
            self.conn.exec_driver_sql(
                f"INSERT INTO member_firsts ({', '.join(_COLUMNS)}) SELECT %s, type, member_id, "
                f"occurred_at FROM new_firsts ORDER BY type, member_id {_UPSERT}",
                (program_id,),
            )
            self.conn.exec_driver_sql("TRUNCATE new_firsts")
            return firsts
        if self.dialect == "postgresql":
            # one statement for the whole chunk: arrays, not a round trip per row
            self.conn.exec_driver_sql(
                "INSERT INTO member_firsts (program_id, type, member_id, occurred_at) "
                "SELECT %s, t, m, a FROM unnest(%s::text[], %s::bigint[], %s::timestamptz[]) "
                f"AS r(t, m, a) {_UPSERT}",
                (
                    program_id,
                    [t for (t, _), _ in rows],
                    [m for (_, m), _ in rows],
                    [a for _, a in rows],
                ),
            )
            return firsts
        self.conn.exec_driver_sql(
            f"INSERT INTO member_firsts ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?) {_UPSERT}",
            [(program_id, t, m, a) for (t, m), a in rows],
        )
        return firsts

    def recount(self, program_id: int, member_id: int, type_: str) -> None:
        """A member's first of ``type_`` again from the log (after one of their events was
        reversed: it counts nowhere). The member's revision is bumped: their first may now be
        later than a writer knows it (LockedMember.firsts)."""
        self.conn.execute(
            update(members).where(members.c.id == member_id).values(revision=members.c.revision + 1)
        )
        self.conn.execute(
            delete(member_firsts).where(
                member_firsts.c.program_id == program_id,
                member_firsts.c.type == type_,
                member_firsts.c.member_id == member_id,
            )
        )
        self._fill(program_id, member_id, type_)

    def rebuild(self, program_id: int) -> None:
        """Every firsts row of the program again from the log (replay, whose reset of the
        members bumps every revision)."""
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
