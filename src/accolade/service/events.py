"""What became of one event: its log row and the entries it (and its reversal) caused."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accolade.engine.effects import result_of
from accolade.errors import NotFound
from accolade.service.programs import active
from accolade.store.unit_of_work import Store


@dataclass(frozen=True)
class EventView:
    id: str
    type: str
    member: str
    occurred_at: datetime
    received_at: datetime
    program_version: int
    result: dict[str, Any]  # as the sender was told: status, points, entries, notes
    body: dict[str, Any]  # the event as stored (normalised)
    reversal: dict[str, Any] | None  # the reversal's result, when it was reversed


def event_view(store: Store, program_key: str, event_id: str) -> EventView:
    with store.read() as uow:
        program = active(uow, program_key)
        row = uow.log.event_row(program.id, "event", event_id)
        if row is None:
            raise NotFound(f"no event '{event_id}' in program '{program_key}'", field="event_id")
        reversal = uow.log.event_row(program.id, "reversal", event_id)
        caused = uow.ledger.entries_caused([row.id] + ([reversal.id] if reversal else []))
        notes = json.loads(row.notes) if row.notes else ()
        return EventView(
            id=row.event_id,
            type=row.type,
            member=uow.members.member_external_id(row.member_id),
            occurred_at=row.occurred_at,
            received_at=row.received_at,
            program_version=int(row.program_version),
            result=result_of(row.status, caused[row.id], notes),
            body=json.loads(row.body),
            reversal=(
                {**result_of(reversal.status, caused[reversal.id], ()), **json.loads(reversal.body)}
                if reversal is not None
                else None
            ),
        )
