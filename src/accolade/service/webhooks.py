"""Webhook subscriptions, and delivering the outbox to them: fan-out, retries with backoff,
dead letters and redelivery. The transport (HTTP and signatures) comes in as ``send``."""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import Row

from accolade.errors import Conflict, InvalidInput, NotFound
from accolade.service import Clock, system_clock
from accolade.service.audit import record
from accolade.service.notify import EFFECT_TYPES
from accolade.service.programs import program_row
from accolade.store.repositories.outbox import ALL_TYPES, Claim, OutboxRepository
from accolade.store.unit_of_work import Store, UnitOfWork

STATUSES = ("pending", "delivered", "dead")
MAX_BACKOFF = timedelta(hours=6)
# A claimed delivery is not due again for this long: the time one send may take, with room
# (httpx's timeout bounds each phase of a request, not the whole of it). Only a deliverer
# that dies between send and record makes the message wait this long.
DEFAULT_LEASE_SECONDS = 300.0
_SECRET_BYTES = 32
_MAX_URL = 2000
_MAX_DESCRIPTION = 200

SendResult = tuple[bool, int | None, str | None]  # (ok, HTTP status, error)


class Send(Protocol):
    """Posts one signed message; never raises for the receiver's or the network's faults."""

    def __call__(
        self, url: str, secret: str, message_id: str, payload: str, timestamp: datetime, /
    ) -> SendResult: ...


@dataclass(frozen=True)
class Subscription:
    id: int
    url: str
    types: tuple[str, ...]  # effect types, or ("*",) for all of them
    description: str
    secret: str  # whsec_...: receivers verify signatures with it
    created_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True)
class Delivery:
    """One message to one subscription, and how its attempts went."""

    id: int
    subscription_id: int
    message_id: str  # the webhook-id header: receivers de-duplicate by it
    type: str
    status: str  # pending | delivered | dead
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class DeliveryReport:
    """What one ``deliver_due`` did."""

    delivered: int
    failed: int  # failed attempts that will be retried
    dead: int  # deliveries given up
    fanned_out: int = 0  # outbox messages fanned out (to as many subscriptions as want them)

    @property
    def idle(self) -> bool:
        return not (self.delivered or self.failed or self.dead or self.fanned_out)


# subscriptions ------------------------------------------------------------------------------


def subscribe(
    store: Store,
    program_key: str,
    url: str,
    types: str | Sequence[str],
    description: str = "",
    clock: Clock = system_clock,
) -> Subscription:
    """A new subscription; its secret is in the result (and in ``get_subscription``)."""
    url = _valid_url(url)
    wanted = _valid_types(types)
    description = description.strip()
    if len(description) > _MAX_DESCRIPTION:
        raise InvalidInput(
            f"at most {_MAX_DESCRIPTION} characters ({len(description)} given)",
            field="description",
        )
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()
    with store.transaction() as uow:
        program_id = _program_id(uow, program_key)
        outbox = uow.outbox
        subscription_id = outbox.add_subscription(
            program_id, url, " ".join(wanted), secret, description, clock()
        )
        row = outbox.subscription(program_id, subscription_id)
    assert row is not None
    return _subscription(row)


def list_subscriptions(
    store: Store, program_key: str, include_disabled: bool = False
) -> list[Subscription]:
    with store.read() as uow:
        program_id = _program_id(uow, program_key)
        rows = uow.outbox.subscriptions(program_id, include_disabled)
    return [_subscription(r) for r in rows]


def get_subscription(store: Store, program_key: str, subscription_id: int) -> Subscription:
    with store.read() as uow:
        row = _subscription_row(uow, _program_id(uow, program_key), subscription_id)
    return _subscription(row)


def disable_subscription(
    store: Store, program_key: str, subscription_id: int, clock: Clock = system_clock
) -> Subscription:
    """Stop a subscription (what deleting one does): it gets no new messages and its pending
    deliveries are given up. Its rows stay, as the history of its deliveries. Disabling a
    disabled subscription changes nothing."""
    with store.transaction() as uow:
        program_id = _program_id(uow, program_key)
        row = _subscription_row(uow, program_id, subscription_id)
        if row.disabled_at is None:
            uow.outbox.disable_subscription(row.id, clock())
            row = _subscription_row(uow, program_id, subscription_id)
    return _subscription(row)


# delivery -----------------------------------------------------------------------------------


def deliver_due(
    store: Store,
    send: Send,
    *,
    clock: Clock = system_clock,
    max_attempts: int,
    backoff_seconds: float,
    batch: int = 100,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Fan out up to ``batch`` outbox messages, then send up to ``batch`` due deliveries.

    Each delivery is claimed in a short transaction (its next attempt pushed ``lease_seconds``
    ahead, so no other deliverer takes it), sent outside any transaction, and its result
    recorded in another. Failures wait ``backoff_seconds`` doubled after each one (at most
    6 h); after ``max_attempts`` the delivery is dead. At least once: a deliverer that dies
    between sending and recording leaves the delivery to be sent again when the lease ends.
    ``stop`` (set) ends the batch before its next send.
    """
    fanned_out = fan_out(store, batch, clock())
    delivered = failed = dead = 0
    for _ in range(batch):
        if stop is not None and stop.is_set():
            break
        now = clock()
        lease_until = now + timedelta(seconds=lease_seconds)
        with store.transaction() as uow:
            claim = uow.outbox.claim_due(now, lease_until)
        if claim is None:
            break
        attempt = _Attempt(store, claim, lease_until)
        if claim.subscription_disabled_at is not None:
            # Fanned out while its subscription was being disabled: given up unsent.
            attempt.record("dead", claim.attempts, None, "subscription disabled")
            dead += 1
            continue
        attempts = claim.attempts + 1
        try:
            ok, status, error = send(claim.url, claim.secret, claim.message_id, claim.payload, now)
        except Exception as exc:
            # A fault of the sender itself: count the attempt (so it cannot come back
            # forever), keep why, and let the caller see it.
            attempt.fail(attempts, None, _describe(exc), clock(), max_attempts, backoff_seconds)
            raise
        if ok:
            attempt.record("delivered", attempts, status, None, delivered_at=clock())
            delivered += 1
        elif attempt.fail(attempts, status, error, clock(), max_attempts, backoff_seconds):
            dead += 1
        else:
            failed += 1
    return DeliveryReport(delivered, failed, dead, fanned_out)


def redeliver(
    store: Store,
    program_key: str,
    delivery_id: int,
    clock: Clock = system_clock,
    *,
    actor: str | None = None,
) -> Delivery:
    """Send a dead (or delivered) delivery again: pending, attempts reset, due now. With
    ``actor``, recorded in the audit log in the same transaction."""
    with store.transaction() as uow:
        program_id = _program_id(uow, program_key)
        outbox = uow.outbox
        row = _delivery_row(outbox, program_id, delivery_id)
        if row.subscription_disabled_at is not None:
            raise Conflict(
                f"subscription {row.subscription_id} of delivery {delivery_id} is disabled",
                field="delivery_id",
            )
        if row.status == "pending":
            raise Conflict(
                f"delivery {delivery_id} is pending already (next attempt at "
                f"{row.next_attempt_at.isoformat()})",
                field="delivery_id",
            )
        was = row.status
        now = clock()
        outbox.reset_delivery(row.id, now)
        row = _delivery_row(outbox, program_id, delivery_id)
        if actor is not None:
            target = str(delivery_id)
            before, after = {"status": was}, {"status": row.status}
            record(uow, actor, "delivery.redelivered", program_id, target, before, after, at=now)
    return _delivery(row)


def get_delivery(store: Store, program_key: str, delivery_id: int) -> Delivery:
    with store.read() as uow:
        row = _delivery_row(uow.outbox, _program_id(uow, program_key), delivery_id)
    return _delivery(row)


def list_deliveries(
    store: Store,
    program_key: str,
    subscription_id: int | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[Delivery]:
    """The program's deliveries, newest first, optionally of one subscription or status."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(
            f"unknown status '{status}' (known: {', '.join(STATUSES)})", field="status"
        )
    if not 1 <= limit <= 1000:
        raise InvalidInput("give a limit from 1 to 1000", field="limit")
    with store.read() as uow:
        program_id = _program_id(uow, program_key)
        if subscription_id is not None:
            _subscription_row(uow, program_id, subscription_id)
        rows = uow.outbox.deliveries(program_id, subscription_id, status, limit)
    return [_delivery(r) for r in rows]


# internals ----------------------------------------------------------------------------------


def fan_out(store: Store, batch: int, now: datetime) -> int:
    """One pending delivery per message and active subscription (webhook or connector)
    that wants its type; the number of messages fanned out."""
    with store.transaction() as uow:
        outbox = uow.outbox
        messages = outbox.unfanned_messages(batch)
        if not messages:
            return 0
        wanting: dict[int, list[tuple[int, set[str]]]] = {}
        for s in outbox.active_subscriptions({m.program_id for m in messages}):
            wanting.setdefault(s.program_id, []).append((s.id, set(s.types.split())))
        outbox.add_deliveries(
            [
                (m.program_id, m.id, subscription_id)
                for m in messages
                for subscription_id, types in wanting.get(m.program_id, ())
                if ALL_TYPES in types or m.type in types
            ],
            now,
        )
        outbox.mark_fanned_out([m.id for m in messages])
    return len(messages)


@dataclass(frozen=True)
class _Attempt:
    """Records how the attempt on one claimed delivery went, in its own transaction."""

    store: Store
    claim: Claim
    lease_until: datetime

    def fail(
        self,
        attempts: int,
        status: int | None,
        error: str | None,
        now: datetime,
        max_attempts: int,
        backoff_seconds: float,
    ) -> bool:
        """A failed attempt; True when it was the last one (the delivery is dead)."""
        if attempts >= max_attempts:
            self.record("dead", attempts, status, error)
            return True
        wait = min(timedelta(seconds=backoff_seconds * 2.0 ** (attempts - 1)), MAX_BACKOFF)
        self.record("pending", attempts, status, error, next_attempt_at=now + wait)
        return False

    def record(
        self,
        status: str,
        attempts: int,
        last_status: int | None,
        last_error: str | None,
        *,
        next_attempt_at: datetime | None = None,
        delivered_at: datetime | None = None,
    ) -> None:
        with self.store.transaction() as uow:
            # Nothing is written when the claim was lost (the lease ran out, or an admin
            # redelivered it meanwhile): whoever holds it now records its own attempt.
            uow.outbox.record_attempt(
                self.claim.id,
                self.lease_until,
                status=status,
                attempts=attempts,
                next_attempt_at=next_attempt_at,
                last_status=last_status,
                last_error=last_error,
                delivered_at=delivered_at,
            )


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _valid_url(url: str) -> str:
    url = url.strip()
    problem = f"'{url}' is not an http:// or https:// URL with a host"
    if not url or len(url) > _MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        raise InvalidInput(problem, field="url")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        raise InvalidInput(problem, field="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(problem, field="url")
    return url


def _valid_types(types: str | Sequence[str]) -> tuple[str, ...]:
    """Known effect types (commas or spaces between them), in a stable order; "*" alone
    when it is among them."""
    items = [types] if isinstance(types, str) else list(types)
    given = [t for item in items for t in item.replace(",", " ").split()]
    known = f"known: {', '.join(EFFECT_TYPES)}, or {ALL_TYPES} for all of them"
    if not given:
        raise InvalidInput(f"give at least one type ({known})", field="types")
    unknown = [t for t in given if t != ALL_TYPES and t not in EFFECT_TYPES]
    if unknown:
        raise InvalidInput(f"unknown type '{unknown[0]}' ({known})", field="types")
    if ALL_TYPES in given:
        return (ALL_TYPES,)
    return tuple(t for t in EFFECT_TYPES if t in given)


def _program_id(uow: UnitOfWork, program_key: str) -> int:
    return int(program_row(uow, program_key).id)


def _subscription_row(uow: UnitOfWork, program_id: int, subscription_id: int) -> Row[Any]:
    row = uow.outbox.subscription(program_id, subscription_id)
    if row is None:
        raise NotFound(f"no webhook subscription {subscription_id}", field="subscription_id")
    return row


def _delivery_row(outbox: OutboxRepository, program_id: int, delivery_id: int) -> Row[Any]:
    row = outbox.delivery(program_id, delivery_id)
    if row is None:
        raise NotFound(f"no webhook delivery {delivery_id}", field="delivery_id")
    return row


def _subscription(row: Row[Any]) -> Subscription:
    return Subscription(
        id=int(row.id),
        url=row.url,
        types=tuple(row.types.split()),
        description=row.description,
        secret=row.secret,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
    )


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        id=int(row.id),
        subscription_id=int(row.subscription_id),
        message_id=row.message_id,
        type=row.type,
        status=row.status,
        attempts=int(row.attempts),
        next_attempt_at=row.next_attempt_at,
        last_status=row.last_status,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
    )
