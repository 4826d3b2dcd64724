"""Inbound CRM webhooks: a HubSpot or Salesforce notice of a changed record, verified with the
vendor's signature scheme, turned into the referral moves the program's `integrations.inbound`
rules say. A move goes through the referral service, whose stage events go through ingest with
ids of their own (`referral:<id>:<stage>`), so a notice sent twice changes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from accolade.errors import AccoladeError, Forbidden, InvalidInput
from accolade.program.integrations import InboundRule
from accolade.service import Clock, system_clock
from accolade.service import referrals as referral_moves
from accolade.service.programs import active
from accolade.store.unit_of_work import Store

MAX_AGE = timedelta(minutes=5)  # older signed requests are refused (a replay)
MAX_EVENTS = 100


@dataclass(frozen=True)
class Change:
    """One changed record, as either vendor tells it."""

    event_id: str  # the vendor's
    object: str  # HubSpot: deal, contact, ...; Salesforce: Opportunity, Lead, ...
    record_id: str
    fields: dict[str, Any]  # the changed property (HubSpot) or the record's fields (Salesforce)
    occurred_at: datetime | None


@dataclass(frozen=True)
class Received:
    """What became of one change: `moved`, `duplicate` (the referral had that status),
    `ignored` (no rule matches) or `rejected` (with the reason)."""

    event_id: str
    status: str
    referral_id: str | None = None
    move: str | None = None
    error: str | None = None


# signatures ---------------------------------------------------------------------------------


def verify_hubspot(
    secret: str, method: str, uri: str, body: bytes, timestamp: str, signature: str, now: datetime
) -> None:
    """HubSpot's v3 signature: base64 of HMAC-SHA256, with the app's client secret, of the
    method, the full URI, the body and the timestamp (ms), which must be under 5 minutes old."""
    _fresh(timestamp, now, millis=True)
    text = method.upper().encode() + uri.encode() + body + timestamp.encode()
    expected = base64.b64encode(hmac.new(secret.encode(), text, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, signature.strip()):
        raise Forbidden("the X-HubSpot-Signature-v3 does not match", field="signature")


def verify_salesforce(
    secret: str, body: bytes, timestamp: str, signature: str, now: datetime
) -> None:
    """Accolade's scheme for Salesforce (whose Outbound Messages are not signed): hex HMAC-SHA256,
    with the shared secret, of `<timestamp>.<body>` (timestamp in seconds, under 5 minutes old),
    sent as `X-Accolade-Signature: sha256=<hex>` with `X-Accolade-Timestamp`."""
    _fresh(timestamp, now, millis=False)
    text = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.strip()):
        raise Forbidden("the X-Accolade-Signature does not match", field="signature")


def _fresh(timestamp: str, now: datetime, *, millis: bool) -> None:
    try:
        value = int(timestamp)
    except ValueError:
        raise Forbidden("the request timestamp is not a number", field="timestamp") from None
    sent = datetime.fromtimestamp(value / 1000 if millis else value, UTC)
    if abs(now - sent) > MAX_AGE:
        raise Forbidden("the request timestamp is more than 5 minutes away", field="timestamp")


# payloads -----------------------------------------------------------------------------------


def hubspot_changes(payload: object) -> list[Change]:
    """HubSpot's webhook body: a list of events (`eventId`, `subscriptionType` such as
    `deal.propertyChange`, `objectId`, `propertyName`, `propertyValue`, `occurredAt` in ms)."""
    if not isinstance(payload, list) or len(payload) > MAX_EVENTS:
        raise InvalidInput(f"expected a list of at most {MAX_EVENTS} events", field="body")
    changes = []
    for i, item in enumerate(payload):
        if not isinstance(item, dict) or "eventId" not in item or "objectId" not in item:
            raise InvalidInput("an event needs eventId and objectId", field=f"body[{i}]")
        occurred = item.get("occurredAt")
        changes.append(
            Change(
                event_id=str(item["eventId"]),
                object=str(item.get("subscriptionType", "")).partition(".")[0],
                record_id=str(item["objectId"]),
                fields={str(item.get("propertyName")): item.get("propertyValue")},
                occurred_at=datetime.fromtimestamp(occurred / 1000, UTC)
                if isinstance(occurred, int)
                else None,
            )
        )
    return changes


def salesforce_changes(payload: object) -> list[Change]:
    """The body a Salesforce Flow or Apex trigger posts (documented in docs/crm.md):
    `{"events": [{"id", "object", "record_id", "fields": {...}, "occurred_at"}]}`."""
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list) or len(events) > MAX_EVENTS:
        raise InvalidInput(f"expected events: a list of at most {MAX_EVENTS}", field="events")
    changes = []
    for i, item in enumerate(events):
        fields = item.get("fields") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(fields, dict):
            raise InvalidInput(
                "an event needs id, object, record_id and fields", field=f"events[{i}]"
            )
        missing = [k for k in ("id", "object", "record_id") if not item.get(k)]
        if missing:
            raise InvalidInput(f"missing {missing[0]}", field=f"events[{i}].{missing[0]}")
        occurred = item.get("occurred_at")
        try:
            at = datetime.fromisoformat(occurred) if isinstance(occurred, str) else None
        except ValueError:
            raise InvalidInput("not an ISO 8601 time", field=f"events[{i}].occurred_at") from None
        if at is not None and at.tzinfo is None:
            raise InvalidInput("needs a time zone", field=f"events[{i}].occurred_at")
        changes.append(
            Change(str(item["id"]), str(item["object"]), str(item["record_id"]), fields, at)
        )
    return changes


# applying -----------------------------------------------------------------------------------


def receive(
    store: Store,
    program_key: str,
    source: str,
    changes: list[Change],
    clock: Clock = system_clock,
) -> list[Received]:
    """Each change matched against the program's rules of ``source``, in order; the first
    rule that matches moves the referral whose id is the record's id. A referral it cannot
    move (unknown, or a move its status does not allow) is `rejected`, the others go on."""
    with store.read() as uow:
        integrations = active(uow, program_key).compiled.definition.integrations
    rules = [r for r in (integrations.inbound if integrations else []) if r.source == source]
    out = []
    for change in changes:
        rule = next((r for r in rules if _matches(r, change)), None)
        if rule is None:
            out.append(Received(change.event_id, "ignored"))
            continue
        try:
            amount, currency = _money(rule, change)
            done = referral_moves.move(
                store,
                program_key,
                change.record_id,
                rule.move,
                amount=amount,
                currency=currency,
                reason=rule.reason,
                occurred_at=change.occurred_at,
                clock=clock,
            )
        except AccoladeError as exc:
            out.append(Received(change.event_id, "rejected", change.record_id, rule.move, str(exc)))
            continue
        status = "duplicate" if done.duplicate else "moved"
        out.append(Received(change.event_id, status, change.record_id, rule.move))
    return out


def _matches(rule: InboundRule, change: Change) -> bool:
    if rule.object.lower() != change.object.lower() or rule.property not in change.fields:
        return False
    values = rule.value if isinstance(rule.value, list) else [rule.value]
    return str(change.fields[rule.property]) in values


def _money(rule: InboundRule, change: Change) -> tuple[Decimal | None, str | None]:
    if rule.amount_field is None:
        return None, None
    raw = change.fields.get(rule.amount_field)
    try:
        amount = Decimal(str(raw)) if raw is not None else None
    except InvalidOperation:
        raise InvalidInput(f"'{raw}' is not an amount", field=rule.amount_field) from None
    currency = change.fields.get(rule.currency_field) if rule.currency_field else None
    return amount, str(currency) if currency else rule.currency
