"""Manual adjustments: points an operator adds to a member's balance or takes from it, with a
reason. Each is a log row of kind ``manual`` with its ledger entry (balance only, as a refund
or an expiry: lifetime points and the tier stay), so it is explained like any other entry and
replay rebuilds it; with an actor, an audit row in the same transaction."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from accolade.engine.effects import Entry, EntryKind
from accolade.engine.events import EVENT_SCHEMA_VERSION, body_hash
from accolade.errors import InsufficientBalance, InvalidInput, NotFound
from accolade.service import Clock, system_clock
from accolade.service.audit import record
from accolade.service.programs import active
from accolade.store.repositories.ledger import NewEntry
from accolade.store.repositories.log import NewLoggedEvent
from accolade.store.unit_of_work import Store

MANUAL = "manual"  # the log row's kind and the ledger entry's
MAX_POINTS = 10_000_000
MAX_REASON = 500


@dataclass(frozen=True)
class Adjustment:
    event_id: str  # the log row's id: what the ledger entry is explained by
    member: str
    points: int
    reason: str
    balance: int  # the member's balance after it


def manual_entry(event_id: str, points: int, why: str, version: int) -> Entry:
    """The ledger entry of a manual adjustment; replay builds the same from its log row."""
    text = f"{'added' if points > 0 else 'taken'} by hand: {why}"
    return Entry(event_id, EntryKind.MANUAL, MANUAL, points, 0, text, version)


def adjust_points(
    store: Store,
    program_key: str,
    member: str,
    points: int,
    reason: str,
    *,
    actor: str | None = None,
    clock: Clock = system_clock,
) -> Adjustment:
    """Add ``points`` to ``member``'s balance (take them, when negative), saying why. A
    balance may not go below zero."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the points are adjusted", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"must be at most {MAX_REASON} characters", field="reason")
    if points == 0 or abs(points) > MAX_POINTS:
        raise InvalidInput(
            f"must be a whole number other than 0, at most {MAX_POINTS:,} either way",
            field="points",
        )
    with store.transaction() as uow:
        program = active(uow, program_key)
        if uow.members.member(program.id, member) is None:
            raise NotFound(f"no member '{member}' in program '{program_key}'", field="member")
        locked = uow.members.lock_members(program.id, [member])[member]
        balance = locked.state.balance
        if balance + points < 0:
            raise InsufficientBalance(
                f"the balance is {balance:,}: at most {balance:,} can be taken", field="points"
            )
        now = clock()
        event_id = f"{MANUAL}:{secrets.token_hex(8)}"
        body = json.dumps(
            {"points": points, "reason": reason, "at": now.isoformat(), "by": actor},
            sort_keys=True,
            separators=(",", ":"),
        )
        version = program.compiled.version
        [log_pk] = uow.log.insert_events(
            program.id,
            [
                NewLoggedEvent(
                    kind=MANUAL,
                    event_id=event_id,
                    type=f"points.{MANUAL}",
                    member_id=locked.id,
                    occurred_at=now,
                    program_version=version,
                    schema_version=EVENT_SCHEMA_VERSION,
                    body_hash=body_hash(body),
                    body=body,
                    status="accepted",
                    notes=None,
                )
            ],
            now,
        )
        entry = manual_entry(event_id, points, reason, version)
        uow.ledger.insert_entries(
            program.id,
            [NewEntry(locked.id, log_pk, log_pk, now, entry)],
            now,
            program.compiled.zone,
        )
        state = locked.state.successor()
        state.balance += points
        uow.members.save_members([(locked.id, state)], now)
        if actor is not None:
            before = {"member": member, "balance": balance}
            after = {**before, "balance": state.balance, "points": points, "reason": reason}
            record(uow, actor, "points.adjusted", program.id, member, before, after, at=now)
    return Adjustment(event_id, member, points, reason, state.balance)
