"""Rewards: the catalogue a member sees, redeeming an item, and a redemption's life after it.

Redeeming debits the spendable balance only: lifetime points, and so the tier, never move. The
points go through the log (a row of kind ``redemption``, and ``refund`` when they come back),
each with its ledger entry, so replay rebuilds every balance.

A redemption's statuses::

    requested --approve--> approved --fulfil--> fulfilled
        \\________________________/--reject (admin) / cancel--> rejected / cancelled

An item without ``approval`` starts approved. A ``code`` item is fulfilled by its code: at
once, or when it is approved (the code is set aside at the request, so approval cannot find
the pool empty). Rejected and cancelled redemptions give the points back with a refund entry,
and their unit of stock and their code back to the pool. Fulfilled is final.

One transaction per call. The member's row is locked first: their balance and their limits are
counted under that lock. Stock and codes are shared; see store.rewards_repo.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accolade.engine.effects import Entry, EntryKind
from accolade.engine.events import EVENT_SCHEMA_VERSION, body_hash
from accolade.engine.rewards import blocked, limit_since, limit_text, why_not
from accolade.engine.state import compact_json
from accolade.errors import Conflict, InsufficientBalance, InvalidInput, NotFound, NotRedeemable
from accolade.program.compile import CompiledProgram, CompiledReward
from accolade.service import Clock, check_page, once_more_on_conflict, public_id, system_clock
from accolade.service.expiry import pending_points
from accolade.service.members import member_id, program_and_member
from accolade.service.notify import REDEMPTION_UPDATED, REWARD_REDEEMED
from accolade.service.programs import ActiveProgram, active
from accolade.store.repositories.ledger import NewEntry
from accolade.store.repositories.log import NewEvent
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
MAX_ID = 150  # redemption ids


@dataclass(frozen=True)
class RewardOffer:
    key: str
    name: str
    description: str | None
    price: int
    value: dict[str, Any] | None  # {"amount": minor units, "currency": "EUR"}
    fulfilment: str
    approval: bool
    left: int | None  # units still on offer (stock, or free codes); None: unlimited
    # for a member: whether they can redeem it now, and if not why (None without a member)
    redeemable: bool | None = None
    reason: str | None = None


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


# the catalogue ------------------------------------------------------------------------------


def catalogue(
    store: Store, program_key: str, member: str | None = None, *, clock: Clock = system_clock
) -> list[RewardOffer]:
    """Every item; for ``member``, only those they are eligible for (tier, stage, segment),
    each saying whether they can redeem it now and, if not, why (balance, stock, limit)."""
    with store.read() as uow:
        if member is None:
            program = active(uow, program_key)
            return [_item(i, _left(uow, program, i)) for i in program.compiled.rewards.values()]
        program, row = program_and_member(uow, program_key, member)
        state = uow.members.member_state(row)
        compiled = program.compiled
        now = int(clock().timestamp())
        items = [i for i in compiled.rewards.values() if why_not(compiled, i, state) is None]
        since = {
            i.key: datetime.fromtimestamp(start, UTC)
            for i in items
            if (start := limit_since(i, now, compiled.zone)) is not None
        }
        counts = uow.rewards.redeemed_counts(int(row.id), since)
        spendable = state.balance - pending_points(uow, compiled, int(row.id), clock())
        out = []
        for item in items:
            left = _left(uow, program, item)
            reason = blocked(item, left, counts.get(item.key, 0), spendable)
            out.append(_item(item, left, reason is None, reason))
        return out


def _left(uow: UnitOfWork, program: ActiveProgram, item: CompiledReward) -> int | None:
    left: int | None = None
    if item.stock is not None:
        left = max(0, item.stock - uow.rewards.stock_taken(program.id).get(item.key, 0))
    if item.fulfilment == "code":
        free = uow.rewards.free_codes(program.id).get(item.key, 0)
        left = free if left is None else min(left, free)
    return left


def _item(
    item: CompiledReward,
    left: int | None,
    redeemable: bool | None = None,
    reason: str | None = None,
) -> RewardOffer:
    return RewardOffer(
        key=item.key,
        name=item.name,
        description=item.description,
        price=item.price,
        value=item.value.model_dump() if item.value else None,
        fulfilment=item.fulfilment,
        approval=item.approval,
        left=left,
        redeemable=redeemable,
        reason=reason,
    )


# redeeming ----------------------------------------------------------------------------------


def redeem(
    store: Store,
    program_key: str,
    member: str,
    reward: str,
    *,
    redemption_id: str | None = None,
    clock: Clock = system_clock,
) -> Redemption:
    """Redeem ``reward`` for ``member``. ``redemption_id`` makes the call idempotent: the same
    id again returns the first result and changes nothing."""
    rid = public_id(redemption_id, "redemption_id", "rdm", MAX_ID)

    def run() -> Redemption:
        with store.transaction() as uow:
            return _redeem(uow, active(uow, program_key), member, reward, rid, clock())

    return once_more_on_conflict(run)


def _redeem(
    uow: UnitOfWork, program: ActiveProgram, member: str, reward: str, rid: str, now: datetime
) -> Redemption:
    compiled = program.compiled
    item = compiled.rewards.get(reward)
    if item is None:
        known = ", ".join(compiled.rewards) or "(the catalogue is empty)"
        raise NotFound(f"no reward '{reward}' in the catalogue; known: {known}", field="reward")
    locked = uow.members.lock_members(program.id, [member]).get(member)
    if locked is None:
        raise NotFound(f"no member '{member}' in program '{compiled.key}'", field="member")
    earlier = uow.rewards.redemption(program.id, rid)
    if earlier is not None:
        if earlier.member != member or earlier.reward != reward:
            raise Conflict(
                f"redemption '{rid}' was made before for {earlier.member} ({earlier.reward})",
                field="redemption_id",
            )
        return _view(compiled, earlier, duplicate=True)
    _check_redeemable(uow, compiled, item, locked, now)
    _record(uow, program, item, locked.id, rid, now)
    _move_points(uow, program, locked, "redemption", rid, item, -item.price, now, "redeemed")
    row = uow.rewards.redemption(program.id, rid)
    assert row is not None
    view = _view(compiled, row, balance=locked.state.balance)
    _tell(uow, program.id, REWARD_REDEEMED, view, now)
    return view


def _check_redeemable(
    uow: UnitOfWork,
    compiled: CompiledProgram,
    item: CompiledReward,
    locked: LockedMember,
    now: datetime,
) -> None:
    """NotRedeemable or InsufficientBalance, naming why, unless the member may redeem
    ``item`` now: eligible, within the per-member limit, with the spendable points, in stock."""
    member, reward, state = locked.state.member, item.key, locked.state
    reason = why_not(compiled, item, state)
    if reason is not None:
        raise NotRedeemable(f"'{reward}' is {reason}", field="reward")
    since = limit_since(item, int(now.timestamp()), compiled.zone)
    if since is not None and item.limit is not None:
        redeemed = uow.rewards.redeemed_count(locked.id, reward, datetime.fromtimestamp(since, UTC))
        if redeemed >= item.limit.count:
            raise NotRedeemable(f"'{reward}': {limit_text(item)}", field="reward")
    pending = pending_points(uow, compiled, locked.id, now)
    if state.balance - pending < item.price:
        have = f"{member}'s balance is {state.balance:,}"
        if pending:
            have = f"{member} can spend {max(0, state.balance - pending):,} now ({have}, "
            have += f"{pending:,} of it pending)"
        raise InsufficientBalance(f"'{reward}' costs {item.price:,} points; {have}", field="reward")


def _record(
    uow: UnitOfWork,
    program: ActiveProgram,
    item: CompiledReward,
    member_pk: int,
    rid: str,
    now: datetime,
) -> None:
    """The redemption's row, with its stock taken and its code claimed (NotRedeemable when
    either has run out), requested when the reward needs approval."""
    reward = item.key
    if item.stock is not None and not uow.rewards.take_stock(program.id, reward, item.stock):
        raise NotRedeemable(f"'{reward}' is out of stock", field="reward")
    status = REQUESTED if item.approval else APPROVED
    pk = uow.rewards.insert_redemption(
        {
            "program_id": program.id,
            "redemption_id": rid,
            "member_id": member_pk,
            "reward": reward,
            "price": item.price,
            "value_amount": item.value.amount if item.value else None,
            "value_currency": item.value.currency if item.value else None,
            "fulfilment": item.fulfilment,
            "status": status,
            "stock_taken": item.stock is not None,
            "program_version": program.compiled.version,
            "requested_at": now,
            "updated_at": now,
        }
    )
    if item.fulfilment == "code":
        code = uow.rewards.claim_code(program.id, reward, pk)
        if code is None:
            raise NotRedeemable(f"'{reward}' is out of stock (no codes left)", field="reward")
        uow.rewards.update_redemption(
            pk, code_id=code, status=FULFILLED if status == APPROVED else status
        )


def _move_points(
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
            NewEvent(
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
    uow.ledger.insert_entries(program.id, [NewEntry(locked.id, log_pk, log_pk, now, entry)], now)
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
) -> Redemption:
    """``approve``, ``fulfil``, ``reject`` or ``cancel`` a redemption. ``member``, when given,
    must own it (a member cancelling their own). Rejecting and cancelling refund the points."""
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
            return _view(program.compiled, row, duplicate=True)
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
        view = _view(program.compiled, after, balance=balance)
        _tell(uow, program.id, REDEMPTION_UPDATED, view, now)
        return view


def _give_back(
    uow: UnitOfWork, program: ActiveProgram, locked: LockedMember, row: Any, why: str, now: datetime
) -> dict[str, Any]:
    """A rejected or cancelled redemption: its points refunded (``why``: the decision's note,
    or its status), its code and its stock returned; the row's values that change with it."""
    item = _item_of(program.compiled, row)
    _move_points(uow, program, locked, "refund", row.redemption_id, item, int(row.price), now, why)
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


def add_codes(
    store: Store,
    program_key: str,
    reward: str,
    codes: Sequence[str],
    *,
    clock: Clock = system_clock,
) -> tuple[int, int]:
    """Adds unique codes to a ``code`` item's pool; returns (new codes, free codes now)."""
    cleaned = [c.strip() for c in codes if c.strip()]
    if not cleaned:
        raise InvalidInput("no codes given", field="codes")
    too_long = next((c for c in cleaned if len(c) > 200), None)
    if too_long is not None:
        raise InvalidInput(f"'{too_long[:20]}...' is longer than 200 characters", field="codes")
    with store.transaction() as uow:
        program = active(uow, program_key)
        item = program.compiled.rewards.get(reward)
        if item is None:
            raise NotFound(f"no reward '{reward}' in the catalogue", field="reward")
        if item.fulfilment != "code":
            raise InvalidInput(
                f"'{reward}' is fulfilled by {item.fulfilment}, not by codes", field="reward"
            )
        added = uow.rewards.add_codes(program.id, reward, list(dict.fromkeys(cleaned)), clock())
        return added, uow.rewards.free_codes(program.id).get(reward, 0)


# reads --------------------------------------------------------------------------------------


def redemption(
    store: Store, program_key: str, redemption_id: str, member: str | None = None
) -> Redemption:
    with store.read() as uow:
        program = active(uow, program_key)
        row = uow.rewards.redemption(program.id, redemption_id)
        if row is None or (member is not None and row.member != member):
            raise NotFound(f"no redemption '{redemption_id}'", field="redemption_id")
        return _view(program.compiled, row)


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
            [_view(program.compiled, r) for r in rows], int(rows[-1].id) if more else None
        )


def _view(
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


def _tell(uow: UnitOfWork, program_id: int, type_: str, view: Redemption, now: datetime) -> None:
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
