"""Slack and Teams notices: a chat connector's due deliveries rendered with the program file's
templates (`integrations.slack` / `integrations.teams`) and posted one message at a time per
channel, spaced by the channel's rate limit, with the retries and dead letters of webhooks.
The transport (the protocol's payload, the webhook URL) comes in as ``post``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from accolade.program.assessments import sales_note_template
from accolade.program.integrations import Notice, Notices
from accolade.service import Clock, system_clock
from accolade.service.connectors import CHAT_KINDS, channel_of
from accolade.service.crm import UpsertResult, _Report
from accolade.service.programs import compiled_version
from accolade.service.webhooks import DEFAULT_LEASE_SECONDS, MAX_BACKOFF, DeliveryReport, fan_out
from accolade.store.repositories.outbox import ConnectorClaim
from accolade.store.unit_of_work import Store, UnitOfWork

if TYPE_CHECKING:
    from jinja2 import Template

MAX_CLAIMS = 50  # deliveries one round takes: at most one is sent per channel and round


@dataclass(frozen=True)
class Rendered:
    """A notice's words, ready for a protocol: a heading, the text, a context line."""

    title: str | None
    text: str
    context: str | None


class Post(Protocol):
    """Posts one message to a channel; never raises for the target's or the network's
    faults, and never puts the channel's webhook URL in ``error``."""

    def __call__(self, channel: str, notices: Sequence[Rendered], /) -> UpsertResult: ...


class ChannelGate:
    """When each channel may be sent to next: ``spacing_seconds`` after its last send, or
    later when the target asked to wait (429's Retry-After). Held in memory by the process
    that delivers (the worker keeps one across rounds); keyed by kind and channel, because a
    channel's webhook URL is the same for every program."""

    def __init__(self, spacing_seconds: float) -> None:
        self.spacing = timedelta(seconds=spacing_seconds)
        self.opens: dict[str, datetime] = {}

    def opens_at(self, key: str) -> datetime | None:
        return self.opens.get(key)

    def sent(self, key: str, now: datetime) -> None:
        self.hold(key, now + self.spacing)

    def hold(self, key: str, until: datetime) -> None:
        self.opens[key] = max(until, self.opens.get(key, until))


def render(
    config: Notices,
    channel: str,
    message: Mapping[str, Any],
    program_name: str,
    escape: Callable[[str], str] = str,
) -> list[Rendered]:
    """The notices of ``channel`` that ``message`` matches (its type and `when`), rendered
    with the message's data, `type`, `timestamp` and `program`; ``escape`` is applied to every
    text value of the message first (Slack's mrkdwn control characters, say)."""
    type_ = message.get("type")
    data = message.get("data") or {}
    fields = _escaped(
        {**data, "type": type_, "timestamp": message.get("timestamp"), "program": program_name},
        escape,
    )
    out: list[Rendered] = []
    for notice in config.notices:
        if notice.type != type_ or notice.channel != channel or not _matches(notice, data):
            continue
        out.append(
            Rendered(
                title=_render(notice.title, fields),
                text=_render(notice.text, fields) or "",
                context=_render(notice.context, fields),
            )
        )
    return out


def sync_notices(
    store: Store,
    post: Post,
    gate: ChannelGate,
    *,
    kind: str,
    escape: Callable[[str], str] = str,
    clock: Clock = system_clock,
    max_attempts: int,
    backoff_seconds: float,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Fan out the outbox, then post due deliveries of ``kind`` (slack or teams) chat
    connectors: at most one per channel whose gate is open, oldest first; the channel's
    others wait (unattempted) until the gate opens again. A refusal (4xx) is dead with the
    target's reason, 429 holds the channel for its Retry-After, and 5xx or no answer is
    retried with backoff, dead after ``max_attempts``."""
    if kind not in CHAT_KINDS:
        raise ValueError(f"not a chat connector: {kind}")
    fanned_out = fan_out(store, MAX_CLAIMS, clock())
    now = clock()
    lease_until = now + timedelta(seconds=lease_seconds)
    with store.transaction() as uow:
        claims = uow.outbox.claim_connector_due(kind, now, lease_until, MAX_CLAIMS)
    report = _Report(store, lease_until, max_attempts, backoff_seconds, clock)
    by_subscription: dict[int, list[ConnectorClaim]] = {}
    for claim in claims:
        by_subscription.setdefault(claim.subscription_id, []).append(claim)
    for group in by_subscription.values():
        if stop is not None and stop.is_set():
            break  # left leased: due again when the lease ends
        _post_channel(store, post, gate, kind, escape, group, report)
    return DeliveryReport(report.delivered, report.failed, report.dead, fanned_out)


# internals ----------------------------------------------------------------------------------


def _post_channel(
    store: Store,
    post: Post,
    gate: ChannelGate,
    kind: str,
    escape: Callable[[str], str],
    claims: list[ConnectorClaim],
    report: _Report,
) -> None:
    first = claims[0]
    if first.subscription_disabled_at is not None:
        report.dead_all(claims, None, "connector removed from the program file")
        return
    with store.read() as uow:
        row = uow.outbox.subscription(first.program_id, first.subscription_id)
        found = _config(uow, first.program_id, kind)
    channel = channel_of(row.url) if row is not None else ""
    if found is None:
        report.dead_all(claims, None, f"the active program has no integrations.{kind} section")
        return
    config, program_name = found
    key = f"{kind}:{channel}"
    pending = list(claims)
    while pending:
        now = report.clock()
        opens = gate.opens_at(key)
        if opens is not None and opens > now:
            _defer(store, report.lease_until, pending, opens)
            return
        claim = pending.pop(0)
        try:
            notices = render(config, channel, json.loads(claim.payload), program_name, escape)
        except Exception as exc:  # a template's fault on this message's values: dead, said why
            report.dead_all([claim], None, f"template: {type(exc).__name__}: {exc}"[:500])
            continue
        if not notices:
            report.delivered_all([claim], None)  # no notice of this channel matches it
            continue
        result = post(channel, notices)
        if result.ok:
            gate.sent(key, report.clock())
            report.delivered_all([claim], result.status)
        elif not result.retryable:
            gate.sent(key, report.clock())
            report.dead_all([claim], result.status, result.error)
        else:
            report.failed_all([claim], result.status, result.error, result.retry_after)
            # The channel is away or asked to wait: its other messages wait as long as this
            # one, so they still go in order.
            wait = min(timedelta(seconds=report.backoff_seconds * 2.0**claim.attempts), MAX_BACKOFF)
            if result.retry_after is not None:
                wait = max(wait, timedelta(seconds=result.retry_after))
            gate.hold(key, report.clock() + wait)


def _defer(
    store: Store, lease_until: datetime, claims: Sequence[ConnectorClaim], until: datetime
) -> None:
    with store.transaction() as uow:
        for claim in claims:
            uow.outbox.defer_claim(claim.id, lease_until, until)


def _matches(notice: Notice, data: Mapping[str, Any]) -> bool:
    for name, wanted in notice.when.items():
        value = data.get(name)
        options = wanted if isinstance(wanted, list) else [wanted]
        if not any(_same(value, option) for option in options):
            return False
    return True


def _same(value: object, option: object) -> bool:
    if isinstance(value, bool) or isinstance(option, bool):
        return value is option
    return value == option or str(value) == str(option)


def _escaped(value: Any, escape: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {k: _escaped(v, escape) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v, escape) for v in value]
    return value


def _render(source: str | None, fields: Mapping[str, Any]) -> str | None:
    if source is None:
        return None
    return _template(source).render(fields).strip()


@lru_cache(maxsize=256)
def _template(source: str) -> Template:
    # The sales notes' sandboxed environment: a template reads the message and nothing else.
    return sales_note_template(source)


def _config(uow: UnitOfWork, program_id: int, kind: str) -> tuple[Notices, str] | None:
    version = uow.programs.active_version_number(program_id)
    if version is None:
        return None
    definition = compiled_version(uow, program_id, version).definition
    integrations = definition.integrations
    config = getattr(integrations, kind, None) if integrations is not None else None
    return (config, definition.name) if isinstance(config, Notices) else None
