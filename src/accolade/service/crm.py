"""CRM field sync: a connector's due deliveries of `lead.assessed` messages, and of the
messages after which a member's values change (service/crm_members.py), turned into one
batched upsert of contacts (HubSpot contacts keyed by email; Salesforce Leads or Contacts keyed
by an external id; or a member's record by its CRM id) carrying only the properties that
changed since the last successful sync, with the retries and dead letters of webhooks. The
transport (HTTP, the token) comes in as ``upsert``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from accolade.program.integrations import HubSpot, Salesforce
from accolade.service import Clock, system_clock
from accolade.service.connectors import HUBSPOT
from accolade.service.crm_members import (
    MEMBER_TRIGGERS,
    member_email,
    member_properties,
    member_values,
    property_text,
    record_id,
)
from accolade.service.notify import LEAD_ASSESSED
from accolade.service.programs import compiled_version
from accolade.service.webhooks import DEFAULT_LEASE_SECONDS, MAX_BACKOFF, DeliveryReport, fan_out
from accolade.store.repositories.outbox import ConnectorClaim
from accolade.store.unit_of_work import Store, UnitOfWork

MAX_BATCH = 100  # contacts in one HubSpot batch upsert (its documented limit)


CrmConfig = HubSpot | Salesforce


@dataclass(frozen=True)
class Contact:
    """One contact to upsert: its key (an email, or a lead's id for Salesforce's `key: lead`)
    and the properties to write; with ``record_id``, the CRM's own id of a member's record,
    which is updated by that id instead."""

    email: str
    properties: Mapping[str, str]
    record_id: str | None = None

    @property
    def key(self) -> str:
        """What the contact is known by in `crm_contacts` and in ``UpsertResult.refused``."""
        return f"id:{self.record_id}" if self.record_id is not None else self.email


@dataclass(frozen=True)
class UpsertResult:
    ok: bool
    status: int | None = None
    error: str | None = None
    retryable: bool = True  # False: the target refused the payload itself (a dead letter)
    retry_after: float | None = None  # seconds the target asked for (429's Retry-After)
    # With ``ok``: contacts (by key) the target refused one by one (Salesforce's per-record
    # errors), with its reason; the others were written.
    refused: Mapping[str, str] = field(default_factory=dict)


class Upsert(Protocol):
    """Upserts contacts in one request; never raises for the target's or the network's
    faults, and never puts a credential in ``error``."""

    def __call__(self, contacts: Sequence[Contact], /) -> UpsertResult: ...


def lead_properties(config: CrmConfig, data: Mapping[str, Any]) -> dict[str, str]:
    """The contact properties a `lead.assessed` message's data gives under ``config``.
    Explicit mappings win over ``crm_fields``; a value the result lacks (a CRM field of a skipped
    question) is left out, so HubSpot keeps what it has."""
    fields = data.get("fields") or {}
    scores = data.get("scores") or {}
    out: dict[str, str] = {}
    if config.crm_fields:
        out.update({name: property_text(v) for name, v in fields.items()})
    mapping = config.lead_properties if isinstance(config, HubSpot) else config.lead_fields
    for value, prop in mapping.items():
        head, _, name = value.partition(".")
        if head == "fields" and name:
            if name in fields:
                out[prop] = property_text(fields[name])
        elif head == "scores" and name:
            if name in scores:
                out[prop] = property_text(scores[name])
        else:
            out[prop] = property_text(data.get(value))
    return out


def sync_due(
    store: Store,
    upsert: Upsert | None,
    *,
    kind: str = HUBSPOT,
    clock: Clock = system_clock,
    max_attempts: int,
    backoff_seconds: float,
    batch: int = MAX_BATCH,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    stop: threading.Event | None = None,
    upsert_for: Callable[[CrmConfig], Upsert] | None = None,
) -> DeliveryReport:
    """Fan out the outbox, then sync up to ``batch`` due deliveries of ``kind`` connectors:
    per program, one upsert of the contacts whose properties changed (and one update of the
    members' records keyed by their CRM id). A contact the target
    refuses (4xx) is dead with the target's reason (a refused batch is retried contact by
    contact, so one bad contact does not sink the others); 429, 401 and 5xx are retried with
    backoff (at least the Retry-After asked for), dead after ``max_attempts``. With
    ``upsert_for``, each program's upsert is the one it gives for the program's mapping (the
    object and key field of Salesforce's)."""
    fanned_out = fan_out(store, batch, clock())
    now = clock()
    lease_until = now + timedelta(seconds=lease_seconds)
    with store.transaction() as uow:
        claims = uow.outbox.claim_connector_due(kind, now, lease_until, min(batch, MAX_BATCH))
    report = _Report(store, lease_until, max_attempts, backoff_seconds, clock)
    by_subscription: dict[int, list[ConnectorClaim]] = {}
    for claim in claims:
        by_subscription.setdefault(claim.subscription_id, []).append(claim)
    for subscription_id, group in by_subscription.items():
        if stop is not None and stop.is_set():
            break  # left leased: due again when the lease ends
        _sync_subscription(store, upsert, subscription_id, group, report, kind, upsert_for)
    return DeliveryReport(report.delivered, report.failed, report.dead, fanned_out)


# internals ----------------------------------------------------------------------------------


@dataclass
class _Pending:
    """A contact's properties from its messages (the latest wins) and the deliveries."""

    email: str
    properties: dict[str, str] = field(default_factory=dict)
    claims: list[ConnectorClaim] = field(default_factory=list)
    record_id: str | None = None

    @property
    def key(self) -> str:
        return Contact(self.email, {}, self.record_id).key


def _sync_subscription(
    store: Store,
    upsert: Upsert | None,
    subscription_id: int,
    claims: list[ConnectorClaim],
    report: _Report,
    kind: str,
    upsert_for: Callable[[CrmConfig], Upsert] | None,
) -> None:
    program_id = claims[0].program_id
    live = [c for c in claims if c.subscription_disabled_at is None]
    report.dead_all(
        [c for c in claims if c.subscription_disabled_at is not None],
        None,
        "connector removed from the program file",
    )
    if not live:
        return
    with store.read() as uow:
        config = _config(uow, program_id, kind)
        if config is None:
            report.dead_all(live, None, f"the active program has no integrations.{kind} section")
            return
        contacts: dict[str, _Pending] = {}
        members: dict[str, _Pending] = {}  # member id -> their contact, read once per round
        for claim in live:
            message = json.loads(claim.payload)
            if message.get("type") in MEMBER_TRIGGERS and _member_mapping(config):
                _add_member(uow, program_id, config, claim, message, contacts, members, report)
                continue
            if message.get("type") != LEAD_ASSESSED:
                report.delivered_all([claim], None)  # nothing of it is synced
                continue
            data = message["data"]
            lead = str(data["lead"])
            email = (
                lead
                if isinstance(config, Salesforce) and config.key == "lead"
                else _email(uow, program_id, lead, config.email_attribute)
            )
            if email is None:
                report.dead_all(
                    [claim],
                    None,
                    f"lead '{data['lead']}' has no email (its id is none, nor is its "
                    f"'{config.email_attribute}' attribute)",
                )
                continue
            pending = contacts.setdefault(email, _Pending(email))
            if isinstance(config, Salesforce) and config.attribute_fields:
                pending.properties.update(_attribute_fields(uow, program_id, lead, config))
            pending.properties.update(lead_properties(config, data))
            pending.claims.append(claim)
        sent = uow.outbox.sent_properties(subscription_id, contacts)
    changed: list[_Pending] = []
    for pending in contacts.values():
        last = sent.get(pending.key, {})
        delta = {k: v for k, v in pending.properties.items() if last.get(k) != v}
        if delta:
            changed.append(_Pending(pending.email, delta, pending.claims, pending.record_id))
        else:
            report.delivered_all(pending.claims, None)  # nothing new to tell the CRM
    send = upsert_for(config) if upsert_for is not None else upsert
    assert send is not None, "sync_due needs an upsert or an upsert_for"
    # upserts by email (or external id) and updates by record id are different requests
    for same_key in (
        [p for p in changed if p.record_id is None],
        [p for p in changed if p.record_id is not None],
    ):
        if same_key:
            _send(send, subscription_id, same_key, report)


def _member_mapping(config: CrmConfig) -> Mapping[str, str]:
    return config.member_properties if isinstance(config, HubSpot) else config.member_fields


def _add_member(
    uow: UnitOfWork,
    program_id: int,
    config: CrmConfig,
    claim: ConnectorClaim,
    message: Mapping[str, Any],
    contacts: dict[str, _Pending],
    members: dict[str, _Pending],
    report: _Report,
) -> None:
    """The member's current values, once per round however many of their messages were
    claimed: a burst of points becomes one upsert of where they stand."""
    member = str(message["data"]["member"])
    pending = members.get(member)
    if pending is not None:
        pending.claims.append(claim)
        return
    values = member_values(uow, program_id, member)
    if values is None:
        report.dead_all([claim], None, f"no member '{member}' in the program")
        return
    rid = record_id(values, config.id_attribute)
    if isinstance(config, Salesforce) and config.key == "lead":
        email: str | None = member
    else:
        email = member_email(values, config.email_attribute)
    if rid is None and email is None:
        also = f", nor its '{config.id_attribute}' attribute" if config.id_attribute else ""
        report.dead_all(
            [claim],
            None,
            f"member '{member}' has no email (its id is none, nor is its "
            f"'{config.email_attribute}' attribute{also})",
        )
        return
    key = Contact(email or "", {}, rid).key
    pending = contacts.setdefault(key, _Pending(email or "", record_id=rid))
    pending.properties.update(member_properties(_member_mapping(config), values))
    pending.claims.append(claim)
    members[member] = pending


def _send(upsert: Upsert, subscription_id: int, batch: list[_Pending], report: _Report) -> None:
    result = upsert([Contact(p.email, p.properties, p.record_id) for p in batch])
    if result.ok and result.refused:
        report.synced(
            subscription_id, [p for p in batch if p.key not in result.refused], result.status
        )
        for one in (p for p in batch if p.key in result.refused):
            report.dead_all(one.claims, result.status, result.refused[one.key])
    elif result.ok:
        report.synced(subscription_id, batch, result.status)
    elif not result.retryable and len(batch) > 1:
        for one in batch:  # which contact was refused: each on its own
            _send(upsert, subscription_id, [one], report)
    elif not result.retryable:
        report.dead_all(batch[0].claims, result.status, result.error)
    else:
        report.failed_all(
            [c for p in batch for c in p.claims], result.status, result.error, result.retry_after
        )


@dataclass
class _Report:
    """Records attempts on claimed deliveries and counts them."""

    store: Store
    lease_until: datetime
    max_attempts: int
    backoff_seconds: float
    clock: Clock
    delivered: int = 0
    failed: int = 0
    dead: int = 0

    def synced(self, subscription_id: int, batch: list[_Pending], status: int | None) -> None:
        if not batch:
            return
        now = self.clock()
        with self.store.transaction() as uow:
            uow.outbox.save_sent_properties(
                subscription_id, {p.key: p.properties for p in batch}, now
            )
            for claim in (c for p in batch for c in p.claims):
                self._record(uow, claim, "delivered", status, None, delivered_at=now)
        self.delivered += sum(len(p.claims) for p in batch)

    def delivered_all(self, claims: Sequence[ConnectorClaim], status: int | None) -> None:
        now = self.clock()
        with self.store.transaction() as uow:
            for claim in claims:
                self._record(uow, claim, "delivered", status, None, delivered_at=now)
        self.delivered += len(claims)

    def dead_all(
        self, claims: Sequence[ConnectorClaim], status: int | None, error: str | None
    ) -> None:
        if not claims:
            return
        with self.store.transaction() as uow:
            for claim in claims:
                self._record(uow, claim, "dead", status, error)
        self.dead += len(claims)

    def failed_all(
        self,
        claims: Sequence[ConnectorClaim],
        status: int | None,
        error: str | None,
        retry_after: float | None,
    ) -> None:
        now = self.clock()
        with self.store.transaction() as uow:
            for claim in claims:
                attempts = claim.attempts + 1
                if attempts >= self.max_attempts:
                    self._record(uow, claim, "dead", status, error)
                    self.dead += 1
                    continue
                wait = min(
                    timedelta(seconds=self.backoff_seconds * 2.0 ** (attempts - 1)), MAX_BACKOFF
                )
                if retry_after is not None:
                    wait = max(wait, timedelta(seconds=retry_after))
                self._record(uow, claim, "pending", status, error, next_attempt_at=now + wait)
                self.failed += 1

    def _record(
        self,
        uow: UnitOfWork,
        claim: ConnectorClaim,
        status: str,
        last_status: int | None,
        last_error: str | None,
        *,
        next_attempt_at: datetime | None = None,
        delivered_at: datetime | None = None,
    ) -> None:
        # A delivered or dead delivery counts this attempt; nothing is written when the claim
        # was lost (the lease ran out, or an admin redelivered it meanwhile).
        uow.outbox.record_attempt(
            claim.id,
            self.lease_until,
            status=status,
            attempts=claim.attempts + 1,
            next_attempt_at=next_attempt_at,
            last_status=last_status,
            last_error=last_error,
            delivered_at=delivered_at,
        )


def _config(uow: UnitOfWork, program_id: int, kind: str) -> CrmConfig | None:
    version = uow.programs.active_version_number(program_id)
    if version is None:
        return None
    integrations = compiled_version(uow, program_id, version).definition.integrations
    config = getattr(integrations, kind, None) if integrations is not None else None
    return config if isinstance(config, HubSpot | Salesforce) else None


def _attribute_fields(
    uow: UnitOfWork, program_id: int, lead: str, config: Salesforce
) -> dict[str, str]:
    """The lead's attributes the mapping names, as fields (an attribute it lacks is left out)."""
    row = uow.members.member(program_id, lead)
    attributes = (row.attributes or {}) if row is not None else {}
    return {
        name: property_text(attributes[attribute])
        for attribute, name in config.attribute_fields.items()
        if attribute in attributes
    }


def _email(uow: UnitOfWork, program_id: int, lead: str, attribute: str) -> str | None:
    """The lead's email: their id when it is one, else the attribute the mapping names."""
    if "@" in lead:
        return lead.strip().lower()
    row = uow.members.member(program_id, lead)
    value = (row.attributes or {}).get(attribute) if row is not None else None
    if isinstance(value, str) and "@" in value:
        return value.strip().lower()
    return None
