"""Keeping a program's CRM connectors subscribed to its outbox as its `integrations:` section
says, in the transaction that activates a version: a connector is a subscription of its own
kind, so its deliveries share the claim, retries, dead letters and redelivery of webhooks."""

from __future__ import annotations

from datetime import datetime

from accolade.program.models import Program
from accolade.service.notify import LEAD_ASSESSED
from accolade.store.unit_of_work import UnitOfWork

HUBSPOT = "hubspot"
# What a connector subscription shows where a webhook has its URL and signing secret: the
# target's address and token come from settings, never from the database.
_CONNECTOR_URL = {HUBSPOT: "hubspot:contacts"}


def connector_types(program: Program) -> dict[str, str]:
    """The connectors the program file configures, each with the outbox types it reads."""
    wanted: dict[str, str] = {}
    if program.integrations is not None and program.integrations.hubspot is not None:
        wanted[HUBSPOT] = LEAD_ASSESSED
    return wanted


def subscribe_connectors(uow: UnitOfWork, program_id: int, program: Program, now: datetime) -> None:
    """Subscribe the connectors ``program`` configures, update their types, and disable
    (giving up their pending deliveries) those it no longer configures."""
    outbox = uow.outbox
    wanted = connector_types(program)
    for kind in _CONNECTOR_URL:
        row = outbox.connector_subscription(program_id, kind)
        types = wanted.get(kind)
        if types is None:
            if row is not None:
                outbox.disable_subscription(row.id, now)
        elif row is None:
            outbox.add_subscription(
                program_id,
                _CONNECTOR_URL[kind],
                types,
                "",
                f"{kind} connector (integrations.{kind} of the program file)",
                now,
                kind=kind,
            )
        elif row.types != types:
            outbox.set_subscription_types(row.id, types)
