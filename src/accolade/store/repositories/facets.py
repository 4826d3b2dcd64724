"""The facet index of member attributes (tables.member_facets)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, select

from accolade.engine.facets import facets_of
from accolade.engine.state import MemberState
from accolade.store.repositories._base import RepositoryBase, _parts
from accolade.store.repositories.members import state_of
from accolade.store.tables import member_facets, members


class FacetsRepository(RepositoryBase):
    def __init__(self, conn: Connection, rewritten: set[str]) -> None:
        super().__init__(conn)
        # the unit of work's: tables this transaction rewrote in bulk, sampled after commit
        self.rewritten = rewritten

    def sync_facets(
        self,
        program_id: int,
        names: Sequence[str],
        changes: Iterable[tuple[int, MemberState | None, MemberState]],
        default_tier: str | None = None,
    ) -> None:
        """Rewrites the facets of the members whose indexed values changed between ``before``
        (None: nothing indexed yet) and ``after``."""
        stale: list[int] = []
        rows: list[dict[str, Any]] = []
        for member_id, before, after in changes:
            now = facets_of(after, names, default_tier)
            if before is not None and facets_of(before, names, default_tier) == now:
                continue
            stale.append(member_id)
            rows += [
                {"program_id": program_id, "member_id": member_id, "name": n, "value": v}
                for n, v in now.items()
            ]
        for part in _parts(stale):
            self.conn.execute(
                delete(member_facets).where(
                    member_facets.c.program_id == program_id,
                    member_facets.c.member_id.in_(list(part)),
                )
            )
        if rows:
            self.conn.execute(member_facets.insert(), rows)

    def rebuild_facets(
        self, program_id: int, names: Sequence[str], default_tier: str | None = None
    ) -> int:
        """The whole index of the program again, from the stored member states."""
        self.clear_facets(program_id)
        count, after = 0, 0
        while True:
            batch = list(
                self.conn.execute(
                    select(members)
                    .where(
                        members.c.program_id == program_id,
                        members.c.id > after,
                        members.c.progress.is_not(None),
                    )
                    .order_by(members.c.id)
                    .limit(5000)
                )
            )
            if not batch:
                return count
            self.sync_facets(
                program_id,
                names,
                ((int(r.id), None, state_of(r)) for r in batch),
                default_tier,
            )
            count += len(batch)
            after = int(batch[-1].id)

    def drop_member_facets(self, program_id: int, member_ids: Sequence[int]) -> None:
        for part in _parts(member_ids):
            self.conn.execute(
                delete(member_facets).where(
                    member_facets.c.program_id == program_id,
                    member_facets.c.member_id.in_(list(part)),
                )
            )

    def clear_facets(self, program_id: int) -> None:
        """The program's whole index away, before a rebuild (or for good)."""
        self.conn.execute(delete(member_facets).where(member_facets.c.program_id == program_id))
        self.rewritten.add(member_facets.name)
