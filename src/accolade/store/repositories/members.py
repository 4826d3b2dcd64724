"""Members: creating, locking and saving their states, and reading them back in bulk."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select, update

from accolade.engine.state import MemberState, compact_json
from accolade.store.repositories._base import RepositoryBase, _parts
from accolade.store.tables import events, members


@dataclass(slots=True)
class LockedMember:
    id: int
    state: MemberState
    fresh: bool  # created by this transaction's ensure_members: no state was ever stored
    revision: int


# The members columns a state is restored from (state_of).
_STATE_COLUMNS = "id, external_id, team, company, attributes, lifetime, balance, tier, progress"

# member id -> (revision, state) kept by one writer across its transactions
MemberCache = dict[int, tuple[int, MemberState]]


class MembersRepository(RepositoryBase):
    def ensure_members(self, program_id: int, external_ids: Sequence[str]) -> None:
        if not external_ids:
            return
        if self.dialect == "postgresql":
            # Only the missing ones reach the INSERT (ON CONFLICT alone would draw an id from
            # the sequence for every existing member too), in the order given.
            # The lookup is a LATERAL ... LIMIT 1 so that it is an index probe per id whatever
            # the statistics say: a new program's members table, not analysed yet, looked
            # tiny to the planner, which then scanned all of it for every batch (13 ms at 7k).
            self.conn.exec_driver_sql(
                "INSERT INTO members (program_id, external_id, attributes) "
                "SELECT %(program)s, w.external_id, '{}'::jsonb "
                "FROM unnest(%(ids)s::text[]) WITH ORDINALITY AS w(external_id, n) "
                "LEFT JOIN LATERAL (SELECT 1 AS known FROM members AS m "
                "WHERE m.program_id = %(program)s AND m.external_id = w.external_id LIMIT 1) "
                "AS k ON true WHERE k.known IS NULL ORDER BY w.n ON CONFLICT DO NOTHING",
                {"program": program_id, "ids": list(external_ids)},
            )
        else:
            self.conn.exec_driver_sql(
                "INSERT INTO members (program_id, external_id, attributes) VALUES (?, ?, '{}') "
                "ON CONFLICT (program_id, external_id) DO NOTHING",
                [(program_id, m) for m in external_ids],
            )

    def lock_members_table(self) -> None:
        """PostgreSQL: wait for every transaction writing members to end, and keep new ones
        from writing until this one ends (a rebuild from all members sees them all)."""
        if self.dialect == "postgresql":
            self.conn.exec_driver_sql("LOCK TABLE members IN SHARE MODE")

    def lock_or_create_members(
        self, program_id: int, external_ids: Sequence[str], cache: MemberCache | None = None
    ) -> dict[str, LockedMember]:
        """Every member of ``external_ids``, created when new, locked for update, in the order
        this database needs so that concurrent writers never deadlock."""
        if self.dialect == "postgresql":
            # Concurrent writers take members in one global order (sorted ids): the missing
            # ones are created first, holding no other lock, then all are locked. Locking the
            # known ones before inserting new ones deadlocked two batches sharing both kinds.
            ordered = sorted(external_ids)
            self.ensure_members(program_id, ordered)
            return self.lock_members(program_id, ordered, cache)
        # SQLite: the transaction holds the database's only write lock from its BEGIN
        locked = self.lock_members(program_id, external_ids, cache)
        missing = [m for m in external_ids if m not in locked]
        if missing:
            self.ensure_members(program_id, missing)
            locked.update(self.lock_members(program_id, missing))
        return locked

    def lock_members(
        self, program_id: int, external_ids: Sequence[str], cache: MemberCache | None = None
    ) -> dict[str, LockedMember]:
        """Member states for update. On PostgreSQL the rows are locked in the order of
        ``external_ids``: writers that lock several members pass them sorted, so they never
        deadlock.

        States in ``cache`` whose revision is still the stored one are reused as they are;
        the others are read and decoded.
        """
        cache = cache if cache is not None else {}
        found: dict[str, LockedMember] = {}
        if self.dialect == "postgresql":
            if cache:
                return self._lock_cached_members(program_id, external_ids, cache)
            # One statement: an index probe and a row lock per id, in the order given, with
            # the state columns. Not `external_id = ANY(...)`: see ensure_members.
            rows = self.conn.exec_driver_sql(
                f"SELECT m.revision, {_STATE_COLUMNS} "
                "FROM unnest(%(ids)s::text[]) WITH ORDINALITY AS w(wanted, n) "
                f"CROSS JOIN LATERAL (SELECT revision, {_STATE_COLUMNS} FROM members "
                "WHERE program_id = %(program)s AND external_id = w.wanted "
                "LIMIT 1 FOR UPDATE) AS m ORDER BY w.n",
                {"program": program_id, "ids": list(external_ids)},
            )
            for r in rows:
                member_id, revision = int(r.id), int(r.revision)
                cached = cache.get(member_id)
                if cached is not None and cached[0] == revision:
                    found[r.external_id] = LockedMember(member_id, cached[1], False, revision)
                else:
                    state = state_of(r)
                    found[r.external_id] = LockedMember(
                        member_id, state, r.progress is None, revision
                    )
            return found
        heads: list[tuple[int, str, int]] = []
        for part in _parts(external_ids):  # the transaction holds SQLite's write lock already
            marks = ", ".join("?" for _ in part)
            heads += self.conn.exec_driver_sql(
                "SELECT id, external_id, revision FROM members WHERE program_id = ? "
                f"AND external_id IN ({marks})",
                (program_id, *part),
            ).fetchall()
        stale = [i for i, _, revision in heads if cache.get(i, (-1,))[0] != revision]
        loaded = self._sqlite_member_states(stale)
        for i, external_id, revision in heads:
            if i in loaded:
                state, fresh = loaded[i]
                found[external_id] = LockedMember(i, state, fresh, revision)
            else:
                found[external_id] = LockedMember(i, cache[i][1], False, revision)
        return found

    def _lock_cached_members(
        self, program_id: int, external_ids: Sequence[str], cache: MemberCache
    ) -> dict[str, LockedMember]:
        """PostgreSQL, for a writer holding states from its earlier transactions: the rows
        are locked (in the order given) reading only their revisions, and the states are
        read only for the members whose stored revision the cache does not hold (on the later
        chunks of a bulk ingest, nearly none): lock_members took 0.40-0.52 s of a 100k-event
        ingest reading every state with the lock, 0.34-0.44 s this way."""
        heads = self.conn.exec_driver_sql(
            "SELECT m.id, m.external_id, m.revision "
            "FROM unnest(%(ids)s::text[]) WITH ORDINALITY AS w(wanted, n) "
            "CROSS JOIN LATERAL (SELECT id, external_id, revision FROM members "
            "WHERE program_id = %(program)s AND external_id = w.wanted "
            "LIMIT 1 FOR UPDATE) AS m ORDER BY w.n",
            {"program": program_id, "ids": list(external_ids)},
        ).fetchall()
        stale = [int(i) for i, _, revision in heads if cache.get(int(i), (-1,))[0] != revision]
        loaded: dict[int, Any] = {}
        if stale:
            rows = self.conn.exec_driver_sql(
                f"SELECT m.* FROM unnest(%(ids)s::bigint[]) AS w(wanted) "
                f"CROSS JOIN LATERAL (SELECT {_STATE_COLUMNS} FROM members "
                "WHERE id = w.wanted) AS m",
                {"ids": stale},
            )
            loaded = {int(r.id): r for r in rows}
        found: dict[str, LockedMember] = {}
        for i, external_id, revision in heads:
            member_id, revision = int(i), int(revision)
            row = loaded.get(member_id)
            if row is None:
                found[external_id] = LockedMember(member_id, cache[member_id][1], False, revision)
            else:
                found[external_id] = LockedMember(
                    member_id, state_of(row), row.progress is None, revision
                )
        return found

    def _sqlite_member_states(self, ids: Sequence[int]) -> dict[int, tuple[MemberState, bool]]:
        rows: list[Any] = []
        for part in _parts(ids):
            marks = ", ".join("?" for _ in part)
            rows += self.conn.exec_driver_sql(
                f"SELECT {_STATE_COLUMNS} FROM members WHERE id IN ({marks})", tuple(part)
            ).fetchall()
        return {int(r.id): (state_of(r), r.progress is None) for r in rows}

    def member(self, program_id: int, external_id: str) -> Row[Any] | None:
        return self.conn.execute(
            select(members).where(
                members.c.program_id == program_id, members.c.external_id == external_id
            )
        ).first()

    def members_with_balance(
        self, program_id: int, after_id: int, limit: int
    ) -> list[tuple[int, str]]:
        """(id, external id) of the next ``limit`` members with points to spend, by id."""
        rows = self.conn.execute(
            select(members.c.id, members.c.external_id)
            .where(
                members.c.program_id == program_id,
                members.c.id > after_id,
                members.c.balance > 0,
            )
            .order_by(members.c.id)
            .limit(limit)
        )
        return [(int(r.id), str(r.external_id)) for r in rows]

    def member_external_id(self, member_pk: int) -> str:
        return str(
            self.conn.execute(
                select(members.c.external_id).where(members.c.id == member_pk)
            ).scalar_one()
        )

    def member_state(self, row: Any) -> MemberState:
        return state_of(row)

    def last_activity(self, member_pk: int) -> datetime | None:
        """The time of the member's latest event in force (not reversed)."""
        found: datetime | None = self.conn.execute(
            select(func.max(events.c.occurred_at)).where(
                events.c.member_id == member_pk,
                events.c.kind == "event",
                events.c.reversed_by.is_(None),
            )
        ).scalar_one()
        return found

    def save_members(self, changed: Iterable[tuple[int, MemberState]], now: datetime) -> None:
        when = self._time(now)
        rows = [
            (
                member_id,
                s.team,
                s.company,
                compact_json(s.attributes),
                s.lifetime,
                s.balance,
                s.tier,
                s.progress_json(),
                when,
            )
            for member_id, s in changed
        ]
        if not rows:
            return
        if self.dialect == "postgresql" and len(rows) <= _FEW_MEMBERS:
            # A small batch (an API request): creating and truncating the scratch table
            # costs ~2 ms, more than a pipelined UPDATE per member.
            self.conn.exec_driver_sql(
                "UPDATE members SET team = %s, company = %s, attributes = %s, lifetime = %s, "
                "balance = %s, tier = %s, progress = %s, updated_at = %s, "
                "revision = revision + 1 WHERE id = %s",
                [(*r[1:], r[0]) for r in rows],
            )
            return
        if self.dialect == "postgresql":
            # COPY into a scratch table and one UPDATE ... FROM: a third of the time of
            # an UPDATE per member, even pipelined. Attributes arrive as JSON text and are
            # cast once in the UPDATE, so that the COPY can be binary (_append).
            self.conn.exec_driver_sql(
                "CREATE TEMP TABLE IF NOT EXISTS member_changes (id bigint, team text, company text, "
                "attributes text, lifetime bigint, balance bigint, tier text, progress text, "
                "updated_at timestamptz) ON COMMIT DROP"
            )
            self._append("member_changes", _MEMBER_COLUMNS, rows)
            self.conn.exec_driver_sql(
                "UPDATE members AS m SET team = c.team, company = c.company, "
                "attributes = c.attributes::jsonb, "
                "lifetime = c.lifetime, balance = c.balance, tier = c.tier, progress = c.progress, "
                "updated_at = c.updated_at, revision = m.revision + 1 "
                "FROM member_changes AS c WHERE m.id = c.id"
            )
            self.conn.exec_driver_sql("TRUNCATE member_changes")
            return
        self.conn.exec_driver_sql(
            "UPDATE members SET team = ?2, company = ?3, attributes = ?4, lifetime = ?5, balance = ?6, "
            "tier = ?7, progress = ?8, updated_at = ?9, revision = revision + 1 WHERE id = ?1",
            rows,
        )

    def delete_members_without_state(self, ids: Sequence[int]) -> None:
        if ids:
            self.conn.execute(
                delete(members).where(members.c.id.in_(ids), members.c.progress.is_(None))
            )

    def reset_members(self, program_id: int) -> None:
        self.conn.execute(
            update(members)
            .where(members.c.program_id == program_id)
            .values(
                team=None,
                company=None,
                attributes={},
                lifetime=0,
                balance=0,
                tier=None,
                progress=None,
                revision=members.c.revision + 1,
            )
        )

    def member_rows(self, program_id: int, limit: int | None = None) -> list[Row[Any]]:
        stmt = (
            select(members)
            .where(members.c.program_id == program_id, members.c.progress.is_not(None))
            .order_by(members.c.lifetime.desc(), members.c.external_id)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.conn.execute(stmt))

    def member_progress(
        self, program_id: int, containing: str | None = None
    ) -> Iterator[tuple[str, dict[str, Any], str | None, dict[str, Any]]]:
        """(member, attributes, tier, decoded progress) of members with a state, streamed;
        ``containing``: only those whose stored progress has that key."""
        stmt = select(
            members.c.external_id, members.c.attributes, members.c.tier, members.c.progress
        ).where(members.c.program_id == program_id, members.c.progress.is_not(None))
        if containing is not None:
            stmt = stmt.where(members.c.progress.like(f'%"{containing}"%'))
        stmt = stmt.order_by(members.c.external_id).execution_options(yield_per=2000)
        for external_id, attributes, tier, progress in self.conn.execute(stmt):
            attrs = attributes if isinstance(attributes, dict) else json.loads(attributes or "{}")
            yield external_id, attrs, tier, json.loads(progress)

    def search_members(
        self,
        program_id: int,
        *,
        text: str | None = None,
        attribute: tuple[str, str] | None = None,
        tier: str | None = None,
        stage: str | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[Row[Any]]:
        """Members with a state, by external id from ``after`` on: ``text`` in their id or
        their ``name`` attribute (any case), ``attribute`` (name, value as text) equal,
        ``tier``, and ``stage`` (as the stored progress spells it; the caller checks it)."""
        stmt = select(members).where(
            members.c.program_id == program_id, members.c.progress.is_not(None)
        )
        if text:
            pattern = f"%{_escape_like(text.lower())}%"
            stmt = stmt.where(
                func.lower(members.c.external_id).like(pattern, escape="\\")
                | func.lower(members.c.attributes["name"].as_string()).like(pattern, escape="\\")
            )
        if attribute is not None:
            stmt = stmt.where(members.c.attributes[attribute[0]].as_string() == attribute[1])
        if tier is not None:
            stmt = stmt.where(members.c.tier == tier)
        if stage is not None:
            stmt = stmt.where(
                members.c.progress.like(f'%"stage":"{_escape_like(stage)}"%', escape="\\")
            )
        if after is not None:
            stmt = stmt.where(members.c.external_id > after)
        return list(self.conn.execute(stmt.order_by(members.c.external_id).limit(limit)))

    def member_figures(self, program_id: int) -> Iterator[tuple[int, str, str | None, int, int]]:
        """(id, external id, tier, balance, lifetime) of every member with a state, streamed."""
        stmt = (
            select(
                members.c.id,
                members.c.external_id,
                members.c.tier,
                members.c.balance,
                members.c.lifetime,
            )
            .where(members.c.program_id == program_id, members.c.progress.is_not(None))
            .execution_options(yield_per=5000)
        )
        for pk, external_id, tier, balance, lifetime in self.conn.execute(stmt):
            yield int(pk), external_id, tier, int(balance), int(lifetime)

    def count_members(self, program_id: int) -> int:
        return int(
            self.conn.scalar(
                select(func.count()).where(
                    members.c.program_id == program_id, members.c.progress.is_not(None)
                )
            )
            or 0
        )

    def tier_counts(self, program_id: int) -> dict[str, int]:
        rows = self.conn.execute(
            select(members.c.tier, func.count())
            .where(members.c.program_id == program_id, members.c.tier.is_not(None))
            .group_by(members.c.tier)
        )
        return {tier: int(n) for tier, n in rows}


_FEW_MEMBERS = 200  # up to this many changed members, PostgreSQL updates them one by one

_MEMBER_COLUMNS = (
    "id",
    "team",
    "company",
    "attributes",
    "lifetime",
    "balance",
    "tier",
    "progress",
    "updated_at",
)


def state_of(r: Any) -> MemberState:
    attributes = (
        r.attributes if isinstance(r.attributes, dict) else json.loads(r.attributes or "{}")
    )
    return MemberState.restore(
        r.external_id,
        team=r.team,
        company=r.company,
        attributes=attributes,
        lifetime=int(r.lifetime),
        balance=int(r.balance),
        tier=r.tier,
        progress=r.progress,
    )


def _escape_like(text: str) -> str:
    """``text`` matched as it is by LIKE (its wildcards escaped with a backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
