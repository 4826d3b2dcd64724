"""Reads and writes of the admin console's users and of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from accolade.store.repositories._base import RepositoryBase
from accolade.store.tables import audit_log, console_users, programs


class ConsoleRepository(RepositoryBase):
    def add_user(self, email: str, name: str, role: str, password_hash: str, now: datetime) -> int:
        return int(
            self.conn.execute(
                insert(console_users)
                .values(
                    email=email,
                    name=name,
                    role=role,
                    password_hash=password_hash,
                    failed_attempts=0,
                    created_at=now,
                )
                .returning(console_users.c.id)
            ).scalar_one()
        )

    def user(self, email: str, *, lock: bool = False) -> Row[Any] | None:
        """The user of this (lowercased) email; ``lock``: held until the transaction ends, so
        that concurrent sign-ins count their failures one after the other (PostgreSQL; SQLite
        has one writer at a time anyway)."""
        query = select(console_users).where(console_users.c.email == email)
        if lock:
            query = query.with_for_update()
        return self.conn.execute(query).first()

    def users(self) -> list[Row[Any]]:
        return list(self.conn.execute(select(console_users).order_by(console_users.c.email)))

    def set_sign_in_state(
        self, user_id: int, failed_attempts: int, locked_until: datetime | None
    ) -> None:
        self.conn.execute(
            update(console_users)
            .where(console_users.c.id == user_id)
            .values(failed_attempts=failed_attempts, locked_until=locked_until)
        )

    def set_role(self, user_id: int, role: str) -> None:
        self.conn.execute(
            update(console_users).where(console_users.c.id == user_id).values(role=role)
        )

    def set_disabled(self, user_id: int, disabled_at: datetime | None) -> None:
        """Disabled from ``disabled_at``; None: enabled again (its failed sign-ins forgotten)."""
        self.conn.execute(
            update(console_users)
            .where(console_users.c.id == user_id)
            .values(disabled_at=disabled_at, failed_attempts=0, locked_until=None)
        )

    def add_audit(
        self,
        at: datetime,
        actor: str,
        action: str,
        program_id: int | None,
        target: str,
        before: Any,  # JSON: whatever the action changed, as it was
        after: Any,
    ) -> int:
        return int(
            self.conn.execute(
                insert(audit_log)
                .values(
                    at=at,
                    actor=actor,
                    action=action,
                    program_id=program_id,
                    target=target,
                    before=before,
                    after=after,
                )
                .returning(audit_log.c.id)
            ).scalar_one()
        )

    def audit_page(
        self, program_id: int | None, before_id: int | None, limit: int
    ) -> list[Row[Any]]:
        """Newest first, below ``before_id``; with ``program_id``, that program's rows only."""
        query = (
            select(audit_log, programs.c.key.label("program_key"))
            .outerjoin(programs, programs.c.id == audit_log.c.program_id)
            .order_by(audit_log.c.id.desc())
            .limit(limit)
        )
        if program_id is not None:
            query = query.where(audit_log.c.program_id == program_id)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        return list(self.conn.execute(query))
