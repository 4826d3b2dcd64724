"""Redemptions: a redemption's life after the request, and reading them back.

A redemption's statuses::

    requested --approve--> approved --fulfil--> fulfilled
        \\________________________/--reject (admin) / cancel--> rejected / cancelled

An item without ``approval`` starts approved. A ``code`` item is fulfilled by its code: at
once, or when it is approved (the code is set aside at the request, so approval cannot find
the pool empty). Rejected and cancelled redemptions give the points back with a refund entry
(a log row of kind ``refund``), and their unit of stock and their code back to the pool.
Fulfilled is final.

One transaction per call, the member's row locked first, as in service/rewards.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accolade.engine.effects import Entry, EntryKind
from accolade.engine.events import EVENT_SCHEMA_VERSION, body_hash
from accolade.engine.state import compact_json
from accolade.errors import Conflict, InvalidInput, NotFound
from accolade.program.compiled import CompiledProgram, CompiledReward
from accolade.service import Clock, check_page, system_clock
from accolade.service.audit import record
from accolade.service.members import member_id
from accolade.service.notify import REDEMPTION_UPDATED
from accolade.service.programs import ActiveProgram, active
from accolade.store.repositories.ledger import NewEntry
from accolade.store.repositories.log import NewLoggedEvent
from accolade.store.repositories.members import LockedMember
from accolade.store.repositories.rewards import RETURNED
from accolade.store.unit_of_work import Store, UnitOfWork

REQUESTED, APPROVED, FULFILLED, REJECTED, CANCELLED = (
    "requested",
    "approved",
    "fulfilled",
    "rejected",
    "cancelled",
)
STATUSES = (REQUESTED, APPROVED, FULFILLED, REJECTED, CANCELLED)
# what each decision may start from, and where it leads
_DECISIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": ((REQUESTED,), APPROVED),
    "fulfil": ((APPROVED,), FULFILLED),
    "reject": ((REQUESTED, APPROVED), REJECTED),
    "cancel": ((REQUESTED, APPROVED), CANCELLED),
}
DECISIONS = tuple(_DECISIONS)


@dataclass(frozen=True)
class Redemption:
    redemption_id: str
    member: str
    reward: str
    reward_name: str
    price: int
    value: dict[str, Any] | None
    fulfilment: str
    status: str
    code: str | None  # shown once the redemption is fulfilled
    requested_at: datetime
    updated_at: datetime
    decided_by: str | None
    note: str | None
    balance: int | None = None  # the member's balance after this call (redeem, refunds)
    duplicate: bool = False  # the same redemption id was redeemed before: its first result


@dataclass(frozen=True)
class RedemptionPage:
    items: list[Redemption]
    next_before: int | None  # pass as ``before`` for the next page; None: last page


def move_points(
    uow: UnitOfWork,
    program: ActiveProgram,
    locked: LockedMember,
    kind: str,
    rid: str,
    item: CompiledReward,
    points: int,
    now: datetime,
    why: str,
) -> None:
    """A log row of ``kind`` for the redemption, its ledger entry, and the member's balance."""
    body = json.dumps(
        {
            "redemption_id": rid,
            "reward": item.key,
            "points": points,
            "reason": why,
            "at": now.isoformat(),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    [log_pk] = uow.log.insert_events(
        program.id,
        [
            NewLoggedEvent(
                kind=kind,
                event_id=rid,
                type=f"reward.{kind}",
                member_id=locked.id,
                occurred_at=now,
                program_version=program.compiled.version,
                schema_version=EVENT_SCHEMA_VERSION,
                body_hash=body_hash(body),
                body=body,
                status="accepted",
                notes=None,
            )
        ],
        now,
    )
    entry = points_entry(kind, rid, item.key, item.name, points, why, program.compiled.version)
    uow.ledger.insert_entries(
        program.id, [NewEntry(locked.id, log_pk, log_pk, now, entry)], now, program.compiled.zone
    )
    state = locked.state.successor()
    state.balance += points
    uow.members.save_members([(locked.id, state)], now)
    locked.state = state


def points_entry(
    kind: str, rid: str, reward: str, name: str, points: int, why: str, version: int
) -> Entry:
    """The ledger entry of a redemption (``kind`` "redemption") or its refund ("refund"):
    balance only, no lifetime points. Replay builds the same from the log row's body."""
    entry_kind = EntryKind.REDEMPTION if kind == "redemption" else EntryKind.REFUND
    text = f"{why} {name}" if kind == "redemption" else f"{name} refunded: {why}"
    return Entry(rid, entry_kind, f"reward:{reward}", points, 0, text, version)


# after the request --------------------------------------------------------------------------


def decide(
    store: Store,
    program_key: str,
    redemption_id: str,
    decision: str,
    *,
    by: str,
    note: str | None = None,
    member: str | None = None,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> Redemption:
    """``approve``, ``fulfil``, ``reject`` or ``cancel`` a redemption. ``member``, when given,
    must own it (a member cancelling their own). Rejecting and cancelling refund the points.
    With ``actor`` (a console user's email), recorded in the audit log in the same
    transaction."""
    if decision not in _DECISIONS:
        raise InvalidInput(
            f"unknown decision '{decision}'; one of {', '.join(DECISIONS)}", field="decision"
        )
    if note is not None and len(note) > 2000:
        raise InvalidInput("must be at most 2,000 characters", field="note")
    with store.transaction() as uow:
        program = active(uow, program_key)
        found = uow.rewards.redemption(program.id, redemption_id)
        if found is None or (member is not None and found.member != member):
            raise NotFound(f"no redemption '{redemption_id}'", field="redemption_id")
        # lock the member first (the order every writer takes), then read the row again
        locked = uow.members.lock_members(program.id, [found.member])[found.member]
        row = uow.rewards.redemption(program.id, redemption_id)
        assert row is not None
        start, to = _DECISIONS[decision]
        # the same decision again: nothing more to do (a code item approved is fulfilled)
        if row.status == to or (
            to == APPROVED and row.fulfilment == "code" and row.status == FULFILLED
        ):
            return view_of(program.compiled, row, duplicate=True)
        if row.status not in start:
            raise Conflict(
                f"redemption '{redemption_id}' is {row.status}; {decision} needs it "
                + " or ".join(start),
                field="status",
            )
        now = clock()
        values: dict[str, Any] = {"status": to, "updated_at": now, "decided_by": by}
        if note:
            values["note"] = note.strip()
        if to == APPROVED and row.fulfilment == "code":
            values["status"] = FULFILLED  # the code set aside at the request is handed out
        balance = None
        if to in RETURNED:
            why = note.strip() if note and note.strip() else to
            values |= _give_back(uow, program, locked, row, why, now)
            balance = locked.state.balance
        uow.rewards.update_redemption(int(row.id), **values)
        after = uow.rewards.redemption(program.id, redemption_id)
        assert after is not None
        view = view_of(program.compiled, after, balance=balance)
        tell(uow, program.id, REDEMPTION_UPDATED, view, now)
        if actor is not None:
            was = {"status": row.status, "member": row.member, "reward": row.reward}
            became = {**was, "status": view.status, "note": view.note}
            action = f"redemption.{to}"
            record(uow, actor, action, program.id, redemption_id, was, became, at=now)
        return view


def _give_back(
    uow: UnitOfWork, program: ActiveProgram, locked: LockedMember, row: Any, why: str, now: datetime
) -> dict[str, Any]:
    """A rejected or cancelled redemption: its points refunded (``why``: the decision's note,
    or its status), its code and its stock returned; the row's values that change with it."""
    item = _item_of(program.compiled, row)
    move_points(uow, program, locked, "refund", row.redemption_id, item, int(row.price), now, why)
    values: dict[str, Any] = {}
    if row.code_id is not None:
        uow.rewards.release_code(int(row.code_id))
        values["code_id"] = None
    if row.stock_taken:
        uow.rewards.return_stock(program.id, row.reward)
    return values


def _item_of(program: CompiledProgram, row: Any) -> CompiledReward:
    """The item a redemption was for; one the catalogue has dropped since is rebuilt from the
    row (its name is its key)."""
    found = program.rewards.get(row.reward)
    if found is not None:
        return found
    return CompiledReward(
        row.reward,
        row.reward,
        None,
        int(row.price),
        None,
        None,
        None,
        (),
        frozenset(),
        frozenset(),
        row.fulfilment,
        False,
    )


# reads --------------------------------------------------------------------------------------


def redemption(
    store: Store, program_key: str, redemption_id: str, member: str | None = None
) -> Redemption:
    with store.read() as uow:
        program = active(uow, program_key)
        row = uow.rewards.redemption(program.id, redemption_id)
        if row is None or (member is not None and row.member != member):
            raise NotFound(f"no redemption '{redemption_id}'", field="redemption_id")
        return view_of(program.compiled, row)


def redemptions(
    store: Store,
    program_key: str,
    *,
    member: str | None = None,
    status: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> RedemptionPage:
    """Newest first: a member's history, or the program's (``status="requested"``: the
    approval queue)."""
    check_page(status, STATUSES, limit)
    with store.read() as uow:
        program = active(uow, program_key)
        member_pk = member_id(uow, program, member)
        rows = uow.rewards.redemptions_page(
            program.id, member_id=member_pk, status=status, before=before, limit=limit + 1
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return RedemptionPage(
            [view_of(program.compiled, r) for r in rows], int(rows[-1].id) if more else None
        )


def view_of(
    program: CompiledProgram, row: Any, *, balance: int | None = None, duplicate: bool = False
) -> Redemption:
    item = program.rewards.get(row.reward)
    value = (
        {"amount": int(row.value_amount), "currency": row.value_currency}
        if row.value_amount is not None
        else None
    )
    return Redemption(
        redemption_id=row.redemption_id,
        member=row.member,
        reward=row.reward,
        reward_name=item.name if item else row.reward,
        price=int(row.price),
        value=value,
        fulfilment=row.fulfilment,
        status=row.status,
        code=row.code if row.status == FULFILLED else None,
        requested_at=row.requested_at,
        updated_at=row.updated_at,
        decided_by=row.decided_by,
        note=row.note,
        balance=balance,
        duplicate=duplicate,
    )


def tell(uow: UnitOfWork, program_id: int, type_: str, view: Redemption, now: datetime) -> None:
    outbox = uow.outbox
    wanted = outbox.wanted_types(program_id)
    if "*" not in wanted and type_ not in wanted:
        return
    data = {
        "redemption_id": view.redemption_id,
        "member": view.member,
        "reward": view.reward,
        "price": view.price,
        "value": view.value,
        "fulfilment": view.fulfilment,
        "status": view.status,
    }
    stamp = now.isoformat().replace("+00:00", "Z")
    payload = compact_json({"type": type_, "timestamp": stamp, "data": data})
    outbox.append(program_id, [(type_, payload)], now)
