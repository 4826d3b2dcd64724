"""Badge assertions: the opaque id of each award of a badge shown to the world, and what the
ledger says of that award (when it was earned, by which event, whether it was revoked)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from accolade.engine.effects import EntryKind
from accolade.store.repositories._base import RepositoryBase
from accolade.store.tables import badge_assertions, events, ledger_entries, members, programs


class NewAssertion(NamedTuple):
    assertion: str
    member_id: int
    badge: str
    period: str


class AwardEntry(NamedTuple):
    """A ledger entry awarding or revoking a badge, with the log row it is about."""

    kind: str  # badge | badge_revoked
    reason: str
    occurred_at: datetime
    recorded_at: datetime
    event_id: str  # the sender's id of the event the entry is about
    event_type: str


class BadgeAssertionsRepository(RepositoryBase):
    def register(self, program_id: int, rows: Sequence[NewAssertion], now: datetime) -> None:
        """Record assertion ids not seen before (a second registration changes nothing, even
        one racing this transaction)."""
        if not rows:
            return
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        self.conn.execute(
            insert(badge_assertions).on_conflict_do_nothing(),
            [{"program_id": program_id, **r._asdict(), "registered_at": now} for r in rows],
        )

    def find(self, assertion: str) -> Any:
        """The award with its program's key and its member's id and attributes, or None."""
        return self.conn.execute(
            select(
                badge_assertions.c.assertion,
                badge_assertions.c.badge,
                badge_assertions.c.period,
                badge_assertions.c.member_id,
                programs.c.key.label("program"),
                members.c.external_id.label("member"),
                members.c.attributes,
            )
            .join(programs, programs.c.id == badge_assertions.c.program_id)
            .join(members, members.c.id == badge_assertions.c.member_id)
            .where(badge_assertions.c.assertion == assertion)
        ).first()

    def award_entries(self, member_id: int, badge: str, period: str) -> list[AwardEntry]:
        """The ledger's awards and revocations of ``badge`` for ``period`` to the member,
        oldest first: the last one says whether the member holds it now."""
        rows = self.conn.execute(
            select(
                ledger_entries.c.kind,
                ledger_entries.c.reason,
                ledger_entries.c.occurred_at,
                ledger_entries.c.recorded_at,
                events.c.event_id,
                events.c.type,
            )
            .join(events, events.c.id == ledger_entries.c.event_id)
            .where(
                ledger_entries.c.member_id == member_id,
                ledger_entries.c.rule == f"badge:{badge}",
                ledger_entries.c.period == period,
                ledger_entries.c.kind.in_((EntryKind.BADGE.value, EntryKind.BADGE_REVOKED.value)),
            )
            .order_by(ledger_entries.c.id)
        )
        return [AwardEntry(*row) for row in rows]
