"""Keeping a program's connectors subscribed to its outbox as its `integrations:` section
says, in the transaction that activates a version: a connector is a subscription of its own
kind, so its deliveries share the claim, retries, dead letters and redelivery of webhooks.
A chat connector (Slack, Teams) has one subscription per channel, so each channel's
deliveries (and its rate limit) are its own."""

from __future__ import annotations

from datetime import datetime

from accolade.program.models import Program
from accolade.service.crm_members import MEMBER_TRIGGERS
from accolade.service.notify import LEAD_ASSESSED
from accolade.store.unit_of_work import UnitOfWork

HUBSPOT = "hubspot"
SALESFORCE = "salesforce"
SLACK = "slack"
TEAMS = "teams"
CHAT_KINDS = (SLACK, TEAMS)
# What a connector subscription shows where a webhook has its URL and signing secret: the
# target's address and token come from settings, never from the database.
_HUBSPOT_URL = "hubspot:contacts"


def channel_address(kind: str, channel: str) -> str:
    """A chat channel's subscription `url`: its kind and channel name, never its webhook URL."""
    return f"{kind}:{channel}"


def channel_of(address: str) -> str:
    return address.partition(":")[2]


def connector_types(program: Program) -> dict[tuple[str, str], str]:
    """The connectors the program file configures, keyed by kind and address, each with the
    outbox types it reads (space-separated)."""
    wanted: dict[tuple[str, str], str] = {}
    integrations = program.integrations
    if integrations is None:
        return wanted
    # with a member mapping, also the messages after which a member's values change
    with_members = " ".join((LEAD_ASSESSED, *MEMBER_TRIGGERS))
    if integrations.hubspot is not None:
        members = bool(integrations.hubspot.member_properties)
        wanted[(HUBSPOT, _HUBSPOT_URL)] = with_members if members else LEAD_ASSESSED
    if integrations.salesforce is not None:
        address = f"{SALESFORCE}:{integrations.salesforce.object}"
        members = bool(integrations.salesforce.member_fields)
        wanted[(SALESFORCE, address)] = with_members if members else LEAD_ASSESSED
    for kind, chat in ((SLACK, integrations.slack), (TEAMS, integrations.teams)):
        if chat is None:
            continue
        by_channel: dict[str, list[str]] = {}
        for notice in chat.notices:
            types = by_channel.setdefault(notice.channel, [])
            if notice.type not in types:
                types.append(notice.type)
        for channel, types in by_channel.items():
            wanted[(kind, channel_address(kind, channel))] = " ".join(sorted(types))
    return wanted


def subscribe_connectors(uow: UnitOfWork, program_id: int, program: Program, now: datetime) -> None:
    """Subscribe the connectors ``program`` configures, update their types, and disable
    (giving up their pending deliveries) those it no longer configures."""
    outbox = uow.outbox
    wanted = connector_types(program)
    existing = {(row.kind, row.url): row for row in outbox.connector_subscriptions(program_id)}
    for key, row in existing.items():
        types = wanted.get(key)
        if types is None:
            outbox.disable_subscription(row.id, now)
        elif row.types != types:
            outbox.set_subscription_types(row.id, types)
    for (kind, address), types in wanted.items():
        if (kind, address) not in existing:
            outbox.add_subscription(
                program_id,
                address,
                types,
                "",
                f"{kind} connector (integrations.{kind} of the program file)",
                now,
                kind=kind,
            )
