"""Reads and writes of webhook subscriptions, the outbox and its deliveries, and what each
CRM connector last sent per contact."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, Select, bindparam, insert, select, update

from accolade.store.repositories._base import RepositoryBase
from accolade.store.tables import (
    crm_contacts,
    outbox,
    webhook_deliveries,
    webhook_subscriptions,
)

ALL_TYPES = "*"
WEBHOOK = "webhook"  # the kind of a subscription an admin made; connectors have their own


class Claim(NamedTuple):
    """A delivery taken for one attempt, with what sending it needs."""

    id: int
    attempts: int  # made before this one
    url: str
    secret: str
    subscription_disabled_at: datetime | None
    message_id: str
    payload: str


class ConnectorClaim(NamedTuple):
    """A connector's delivery taken for one attempt."""

    id: int
    attempts: int  # made before this one
    program_id: int
    subscription_id: int
    subscription_disabled_at: datetime | None
    message_id: str
    type: str
    payload: str


# Built once: every ingest transaction runs it.
_WANTED = select(webhook_subscriptions.c.types).where(
    webhook_subscriptions.c.program_id == bindparam("program_id"),
    webhook_subscriptions.c.disabled_at.is_(None),
)


class OutboxRepository(RepositoryBase):
    def wanted_types(self, program_id: int) -> frozenset[str]:
        """Effect types some active subscription of the program wants ("*": all of them).
        Ingest writes outbox messages only for these, so a program without webhooks pays
        nothing for them."""
        rows = self.conn.execute(_WANTED, {"program_id": program_id})
        return frozenset(t for (types,) in rows for t in types.split())

    def append(self, program_id: int, messages: Sequence[tuple[str, str]], now: datetime) -> None:
        """Outbox messages, (type, JSON payload) each, in the caller's transaction."""
        if not messages:
            return
        self.conn.execute(
            outbox.insert(),
            [
                {
                    "program_id": program_id,
                    "message_id": f"msg_{secrets.token_hex(12)}",
                    "type": type_,
                    "payload": payload,
                    "created_at": now,
                    "fanned_out": 0,
                }
                for type_, payload in messages
            ],
        )

    # subscriptions ------------------------------------------------------------------------

    def add_subscription(
        self,
        program_id: int,
        url: str,
        types: str,
        secret: str,
        description: str,
        now: datetime,
        kind: str = WEBHOOK,
    ) -> int:
        return int(
            self.conn.execute(
                insert(webhook_subscriptions)
                .values(
                    program_id=program_id,
                    url=url,
                    types=types,
                    secret=secret,
                    description=description,
                    created_at=now,
                    kind=kind,
                )
                .returning(webhook_subscriptions.c.id)
            ).scalar_one()
        )

    def subscription(self, program_id: int, subscription_id: int) -> Row[Any] | None:
        """One subscription of the program, disabled or not (another program's: None)."""
        return self.conn.execute(
            select(webhook_subscriptions).where(
                webhook_subscriptions.c.id == subscription_id,
                webhook_subscriptions.c.program_id == program_id,
            )
        ).first()

    def subscriptions(self, program_id: int, include_disabled: bool) -> list[Row[Any]]:
        query = select(webhook_subscriptions).where(
            webhook_subscriptions.c.program_id == program_id
        )
        if not include_disabled:
            query = query.where(webhook_subscriptions.c.disabled_at.is_(None))
        return list(self.conn.execute(query.order_by(webhook_subscriptions.c.id)))

    def disable_subscription(self, subscription_id: int, now: datetime) -> None:
        """Disable it and give up its pending deliveries (kept, dead, as history)."""
        self.conn.execute(
            update(webhook_subscriptions)
            .where(
                webhook_subscriptions.c.id == subscription_id,
                webhook_subscriptions.c.disabled_at.is_(None),
            )
            .values(disabled_at=now)
        )
        self.conn.execute(
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.subscription_id == subscription_id,
                webhook_deliveries.c.status == "pending",
            )
            .values(status="dead", next_attempt_at=None, last_error="subscription disabled")
        )

    # fan-out ----------------------------------------------------------------------------

    def unfanned_messages(self, limit: int) -> list[Row[Any]]:
        """The oldest messages not yet fanned out, locked; on PostgreSQL a message another
        deliverer holds is skipped, not waited for."""
        return list(
            self.conn.execute(
                select(outbox.c.id, outbox.c.program_id, outbox.c.type)
                .where(outbox.c.fanned_out == 0)
                .order_by(outbox.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )

    def active_subscriptions(self, program_ids: Iterable[int]) -> list[Row[Any]]:
        """Active subscriptions of these programs; on PostgreSQL share-locked, so a
        subscription being disabled meanwhile is either seen disabled or waits for this
        transaction (then gives up the deliveries it wrote)."""
        return list(
            self.conn.execute(
                select(
                    webhook_subscriptions.c.id,
                    webhook_subscriptions.c.program_id,
                    webhook_subscriptions.c.types,
                )
                .where(
                    webhook_subscriptions.c.program_id.in_(list(program_ids)),
                    webhook_subscriptions.c.disabled_at.is_(None),
                )
                .order_by(webhook_subscriptions.c.id)
                .with_for_update(read=True)
            )
        )

    def add_deliveries(self, deliveries: Sequence[tuple[int, int, int]], now: datetime) -> None:
        """Pending deliveries, due ``now``: (program id, outbox id, subscription id) each."""
        if not deliveries:
            return
        self.conn.execute(
            insert(webhook_deliveries),
            [
                {
                    "program_id": program_id,
                    "outbox_id": outbox_id,
                    "subscription_id": subscription_id,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for program_id, outbox_id, subscription_id in deliveries
            ],
        )

    def mark_fanned_out(self, outbox_ids: Sequence[int]) -> None:
        if outbox_ids:
            self.conn.execute(
                update(outbox).where(outbox.c.id.in_(list(outbox_ids))).values(fanned_out=1)
            )

    # deliveries ---------------------------------------------------------------------------

    def claim_due(self, now: datetime, lease_until: datetime) -> Claim | None:
        """The oldest pending delivery due at ``now``, with what sending it needs; its next
        attempt moves to ``lease_until`` so no other deliverer takes it meanwhile. On
        PostgreSQL a delivery another deliverer is claiming is skipped, not waited for."""
        row = self.conn.execute(
            select(
                webhook_deliveries.c.id,
                webhook_deliveries.c.attempts,
                webhook_subscriptions.c.url,
                webhook_subscriptions.c.secret,
                webhook_subscriptions.c.disabled_at,
                outbox.c.message_id,
                outbox.c.payload,
            )
            .join(
                webhook_subscriptions,
                webhook_subscriptions.c.id == webhook_deliveries.c.subscription_id,
            )
            .join(outbox, outbox.c.id == webhook_deliveries.c.outbox_id)
            .where(
                webhook_deliveries.c.status == "pending",
                webhook_deliveries.c.next_attempt_at <= now,
                webhook_subscriptions.c.kind == WEBHOOK,
            )
            .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=webhook_deliveries)
        ).first()
        if row is None:
            return None
        self.conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == row.id)
            .values(next_attempt_at=lease_until)
        )
        return Claim(*row)

    def claim_connector_due(
        self, kind: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[ConnectorClaim]:
        """Up to ``limit`` pending deliveries of ``kind`` connectors due at ``now``, oldest
        first, each leased until ``lease_until`` (as ``claim_due`` does for one)."""
        rows = list(
            self.conn.execute(
                select(
                    webhook_deliveries.c.id,
                    webhook_deliveries.c.attempts,
                    webhook_deliveries.c.program_id,
                    webhook_deliveries.c.subscription_id,
                    webhook_subscriptions.c.disabled_at,
                    outbox.c.message_id,
                    outbox.c.type,
                    outbox.c.payload,
                )
                .join(
                    webhook_subscriptions,
                    webhook_subscriptions.c.id == webhook_deliveries.c.subscription_id,
                )
                .join(outbox, outbox.c.id == webhook_deliveries.c.outbox_id)
                .where(
                    webhook_deliveries.c.status == "pending",
                    webhook_deliveries.c.next_attempt_at <= now,
                    webhook_subscriptions.c.kind == kind,
                )
                .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=webhook_deliveries)
            )
        )
        if rows:
            self.conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id.in_([r.id for r in rows]))
                .values(next_attempt_at=lease_until)
            )
        return [ConnectorClaim(*row) for row in rows]

    def connector_subscription(self, program_id: int, kind: str) -> Row[Any] | None:
        """The program's active subscription of connector ``kind``, if any."""
        return self.conn.execute(
            select(webhook_subscriptions).where(
                webhook_subscriptions.c.program_id == program_id,
                webhook_subscriptions.c.kind == kind,
                webhook_subscriptions.c.disabled_at.is_(None),
            )
        ).first()

    def connector_subscriptions(self, program_id: int) -> list[Row[Any]]:
        """The program's active connector subscriptions (every kind but webhooks)."""
        return list(
            self.conn.execute(
                select(webhook_subscriptions)
                .where(
                    webhook_subscriptions.c.program_id == program_id,
                    webhook_subscriptions.c.kind != WEBHOOK,
                    webhook_subscriptions.c.disabled_at.is_(None),
                )
                .order_by(webhook_subscriptions.c.id)
            )
        )

    def set_subscription_types(self, subscription_id: int, types: str) -> None:
        self.conn.execute(
            update(webhook_subscriptions)
            .where(webhook_subscriptions.c.id == subscription_id)
            .values(types=types)
        )

    # what connectors last sent --------------------------------------------------------------

    def sent_properties(
        self, subscription_id: int, contacts: Iterable[str]
    ) -> dict[str, dict[str, str]]:
        """What was last sent for each of these contacts that has been synced."""
        rows = self.conn.execute(
            select(crm_contacts.c.contact, crm_contacts.c.properties).where(
                crm_contacts.c.subscription_id == subscription_id,
                crm_contacts.c.contact.in_(list(contacts)),
            )
        )
        return {contact: json.loads(properties) for contact, properties in rows}

    def save_sent_properties(
        self, subscription_id: int, sent: Mapping[str, Mapping[str, str]], now: datetime
    ) -> None:
        """Merge what was just sent into what each contact was last sent."""
        known = self.sent_properties(subscription_id, sent)
        for contact, properties in sent.items():
            merged = json.dumps({**known.get(contact, {}), **properties}, sort_keys=True)
            if contact in known:
                self.conn.execute(
                    update(crm_contacts)
                    .where(
                        crm_contacts.c.subscription_id == subscription_id,
                        crm_contacts.c.contact == contact,
                    )
                    .values(properties=merged, synced_at=now)
                )
            else:
                self.conn.execute(
                    insert(crm_contacts).values(
                        subscription_id=subscription_id,
                        contact=contact,
                        properties=merged,
                        synced_at=now,
                    )
                )

    def defer_claim(self, delivery_id: int, lease_until: datetime, until: datetime) -> bool:
        """Give back a delivery claimed until ``lease_until`` unattempted, due at ``until``
        (a connector waiting for a channel's rate limit): its attempts and last error stay."""
        result = self.conn.execute(
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.id == delivery_id,
                webhook_deliveries.c.status == "pending",
                webhook_deliveries.c.next_attempt_at == lease_until,
            )
            .values(next_attempt_at=until)
        )
        return result.rowcount == 1

    def record_attempt(
        self,
        delivery_id: int,
        lease_until: datetime,
        *,
        status: str,
        attempts: int,
        next_attempt_at: datetime | None,
        last_status: int | None,
        last_error: str | None,
        delivered_at: datetime | None,
    ) -> bool:
        """The result of an attempt on a delivery claimed until ``lease_until``. False (and
        nothing written) when the claim was lost: the lease ran out and another deliverer
        claimed it, or it was redelivered or given up meanwhile."""
        result = self.conn.execute(
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.id == delivery_id,
                webhook_deliveries.c.status == "pending",
                webhook_deliveries.c.next_attempt_at == lease_until,
            )
            .values(
                status=status,
                attempts=attempts,
                next_attempt_at=next_attempt_at,
                last_status=last_status,
                last_error=last_error,
                delivered_at=delivered_at,
            )
        )
        return result.rowcount == 1

    def delivery(self, program_id: int, delivery_id: int) -> Row[Any] | None:
        """One delivery of the program with its message and subscription (another
        program's: None)."""
        return self.conn.execute(
            self._deliveries().where(
                webhook_deliveries.c.id == delivery_id,
                webhook_deliveries.c.program_id == program_id,
            )
        ).first()

    def deliveries(
        self,
        program_id: int,
        subscription_id: int | None,
        status: str | None,
        limit: int,
    ) -> list[Row[Any]]:
        """The program's deliveries, newest first."""
        query = self._deliveries().where(webhook_deliveries.c.program_id == program_id)
        if subscription_id is not None:
            query = query.where(webhook_deliveries.c.subscription_id == subscription_id)
        if status is not None:
            query = query.where(webhook_deliveries.c.status == status)
        return list(self.conn.execute(query.order_by(webhook_deliveries.c.id.desc()).limit(limit)))

    def reset_delivery(self, delivery_id: int, now: datetime) -> None:
        """Pending again with a fresh count of attempts, due ``now``."""
        self.conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(status="pending", attempts=0, next_attempt_at=now, delivered_at=None)
        )

    @staticmethod
    def _deliveries() -> Select[Any]:
        return (
            select(
                webhook_deliveries,
                outbox.c.message_id,
                outbox.c.type,
                webhook_subscriptions.c.disabled_at.label("subscription_disabled_at"),
            )
            .join(outbox, outbox.c.id == webhook_deliveries.c.outbox_id)
            .join(
                webhook_subscriptions,
                webhook_subscriptions.c.id == webhook_deliveries.c.subscription_id,
            )
        )
