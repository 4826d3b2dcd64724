"""Programs, their versions and activations, and the record of challenge closes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update

from accolade.store.repositories._base import RepositoryBase
from accolade.store.tables import (
    challenge_closes,
    members,
    program_activations,
    program_simulations,
    program_versions,
    programs,
)

# Built once: every API request runs one of these, and building a select() each time cost
# a few hundred microseconds of a request's CPU.
_ACTIVE_VERSION = (
    select(programs.c.id, programs.c.active_version, program_versions.c.hash)
    .select_from(programs)
    .outerjoin(
        program_versions,
        (program_versions.c.program_id == programs.c.id)
        & (program_versions.c.version == programs.c.active_version),
    )
    .where(programs.c.key == bindparam("key"))
)
_ACTIVE_VERSION_AND_MEMBER = _ACTIVE_VERSION.outerjoin(
    members,
    (members.c.program_id == programs.c.id) & (members.c.external_id == bindparam("member")),
).add_columns(*(c.label(f"member_{c.name}") for c in members.c))


class ProgramsRepository(RepositoryBase):
    def program_by_key(self, key: str) -> Row[Any] | None:
        return self.conn.execute(select(programs).where(programs.c.key == key)).first()

    def program_keys(self) -> list[str]:
        return list(self.conn.scalars(select(programs.c.key).order_by(programs.c.key)))

    def lock_program(self, key: str) -> Row[Any] | None:
        return self.conn.execute(
            select(programs).where(programs.c.key == key).with_for_update()
        ).first()

    def active_version_number(self, program_id: int) -> int | None:
        return self.conn.execute(
            select(programs.c.active_version).where(programs.c.id == program_id)
        ).scalar_one_or_none()

    def create_program(self, key: str, name: str, now: datetime) -> int:
        values = {"key": key, "name": name, "created_at": now}
        return int(
            self.conn.execute(insert(programs).values(values).returning(programs.c.id)).scalar_one()
        )

    def add_version(
        self, program_id: int, version: int, hash_: str, source: str, now: datetime
    ) -> None:
        self.conn.execute(
            insert(program_versions).values(
                program_id=program_id, version=version, hash=hash_, source=source, created_at=now
            )
        )

    def versions(self, program_id: int) -> list[Row[Any]]:
        return list(
            self.conn.execute(
                select(program_versions)
                .where(program_versions.c.program_id == program_id)
                .order_by(program_versions.c.version)
            )
        )

    def version(self, program_id: int, version: int) -> Row[Any] | None:
        return self.conn.execute(
            select(program_versions).where(
                program_versions.c.program_id == program_id, program_versions.c.version == version
            )
        ).first()

    def active_version(self, key: str, member: str | None = None) -> Any:
        """(id, active_version, hash) of program ``key`` in one round trip; hash is None while
        no version is active. With ``member``, that member's row comes along in the same
        query, its columns named ``member_<column>`` (all None when there is no such member)."""
        if member is None:
            return self.conn.execute(_ACTIVE_VERSION, {"key": key}).first()
        return self.conn.execute(_ACTIVE_VERSION_AND_MEMBER, {"key": key, "member": member}).first()

    def version_by_hash(self, program_id: int, hash_: str) -> Row[Any] | None:
        return self.conn.execute(
            select(program_versions).where(
                program_versions.c.program_id == program_id, program_versions.c.hash == hash_
            )
        ).first()

    def activate(
        self,
        program_id: int,
        version: int,
        action: str,
        now: datetime,
        notes: str | None = None,
        approved_by: str | None = None,
    ) -> None:
        """Make ``version`` the active one, with its release record (notes, approver)."""
        self.conn.execute(
            update(programs).where(programs.c.id == program_id).values(active_version=version)
        )
        self.conn.execute(
            insert(program_activations).values(
                program_id=program_id,
                version=version,
                action=action,
                at=now,
                notes=notes,
                approved_by=approved_by,
            )
        )

    def activations(self, program_id: int) -> list[Row[Any]]:
        return list(
            self.conn.execute(
                select(program_activations)
                .where(program_activations.c.program_id == program_id)
                .order_by(program_activations.c.id)
            )
        )

    def record_simulation(self, program_id: int, digest: str, at: datetime, summary: str) -> None:
        """Remember that the draft with program hash ``digest`` was simulated; ``summary`` is
        JSON."""
        self.conn.execute(
            insert(program_simulations).values(
                program_id=program_id, hash=digest, simulated_at=at, summary=summary
            )
        )

    def simulated(self, program_id: int, digest: str) -> bool:
        """Whether the draft with program hash ``digest`` was ever simulated."""
        row = self.conn.execute(
            select(program_simulations.c.id)
            .where(
                program_simulations.c.program_id == program_id,
                program_simulations.c.hash == digest,
            )
            .limit(1)
        ).first()
        return row is not None

    def challenge_closes(self, program_id: int) -> dict[str, Row[Any]]:
        rows = self.conn.execute(
            select(challenge_closes).where(challenge_closes.c.program_id == program_id)
        )
        return {r.challenge: r for r in rows}

    def record_close(
        self, program_id: int, challenge: str, version: int, winners: str, now: datetime
    ) -> None:
        self.conn.execute(
            insert(challenge_closes).values(
                program_id=program_id,
                challenge=challenge,
                program_version=version,
                closed_at=now,
                winners=winners,
            )
        )
