"""Reads and writes of API keys (the access side of the store)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from accolade.store.repositories._base import RepositoryBase
from accolade.store.tables import api_keys, programs


class KeysRepository(RepositoryBase):
    def add_key(
        self,
        program_id: int,
        key_id: str,
        secret_hash: str,
        name: str,
        scopes: str,
        now: datetime,
    ) -> int:
        return int(
            self.conn.execute(
                insert(api_keys)
                .values(
                    program_id=program_id,
                    key_id=key_id,
                    secret_hash=secret_hash,
                    name=name,
                    scopes=scopes,
                    created_at=now,
                )
                .returning(api_keys.c.id)
            ).scalar_one()
        )

    def key(self, key_id: str) -> Row[Any] | None:
        """A key with its program's key, revoked or not."""
        return self.conn.execute(
            select(api_keys, programs.c.key.label("program_key"))
            .join(programs, programs.c.id == api_keys.c.program_id)
            .where(api_keys.c.key_id == key_id)
        ).first()

    def keys(self, program_id: int) -> list[Row[Any]]:
        return list(
            self.conn.execute(
                select(api_keys).where(api_keys.c.program_id == program_id).order_by(api_keys.c.id)
            )
        )

    def revoke_key(self, key_id: str, now: datetime) -> bool:
        result = self.conn.execute(
            update(api_keys)
            .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return result.rowcount == 1
