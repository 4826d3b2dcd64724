"""Rewards: the catalogue a member sees, and redeeming an item.

Redeeming debits the spendable balance only: lifetime points, and so the tier, never move. The
points go through the log (a row of kind ``redemption``), with their ledger entry, so replay
rebuilds every balance. What happens to a redemption afterwards is service/redemptions.py.

One transaction per call. The member's row is locked first: their balance and their limits are
counted under that lock. Stock and codes are shared; see store/repositories/rewards.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accolade.engine.rewards import blocked, limit_since, limit_text, why_not
from accolade.engine.state import MemberState
from accolade.errors import Conflict, InsufficientBalance, InvalidInput, NotFound, NotRedeemable
from accolade.program.compiled import CompiledProgram, CompiledReward
from accolade.service import Clock, once_more_on_conflict, public_id, system_clock
from accolade.service.expiry import pending_points
from accolade.service.members import program_and_member
from accolade.service.notify import REWARD_REDEEMED
from accolade.service.programs import ActiveProgram, active
from accolade.service.redemptions import (
    APPROVED,
    FULFILLED,
    REQUESTED,
    Redemption,
    move_points,
    tell,
    view_of,
)
from accolade.store.repositories.members import LockedMember
from accolade.store.unit_of_work import Store, UnitOfWork

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


# the catalogue ------------------------------------------------------------------------------


def catalogue(
    store: Store,
    program_key: str,
    member: str | None = None,
    *,
    everything: bool = False,
    clock: Clock = system_clock,
) -> list[RewardOffer]:
    """Every item; for ``member``, only those they are eligible for (tier, stage, segment),
    each saying whether they can redeem it now and, if not, why (balance, stock, limit).
    With ``everything``, the member's items they are not eligible for as well, not
    redeemable, with the reason (the tier, stage or segment it is for)."""
    with store.read() as uow:
        if member is None:
            program = active(uow, program_key)
            return [_item(i, _left(uow, program, i)) for i in program.compiled.rewards.values()]
        program, row = program_and_member(uow, program_key, member)
        state = uow.members.member_state(row)
        compiled = program.compiled
        now = int(clock().timestamp())
        not_for = {i.key: why_not(compiled, i, state, now) for i in compiled.rewards.values()}
        items = [i for i in compiled.rewards.values() if everything or not_for[i.key] is None]
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
            reason = not_for[item.key] or blocked(item, left, counts.get(item.key, 0), spendable)
            out.append(_item(item, left, reason is None, reason))
        return out


def unavailable(
    uow: UnitOfWork,
    program: ActiveProgram,
    member_pk: int,
    state: MemberState,
    items: Sequence[CompiledReward],
    now: datetime,
) -> dict[str, str]:
    """Of ``items`` (ones the member is eligible for), those they cannot redeem now, each with
    why, as the catalogue says it: out of stock (or of codes), their per-member limit reached,
    or fewer spendable points than its price (pending points cannot be spent)."""
    if not items:
        return {}
    compiled = program.compiled
    ts = int(now.timestamp())
    since = {
        i.key: datetime.fromtimestamp(start, UTC)
        for i in items
        if (start := limit_since(i, ts, compiled.zone)) is not None
    }
    counts = uow.rewards.redeemed_counts(member_pk, since)
    spendable = state.balance - pending_points(uow, compiled, member_pk, now)
    out = {}
    for item in items:
        reason = blocked(item, _left(uow, program, item), counts.get(item.key, 0), spendable)
        if reason is not None:
            out[item.key] = reason
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
        return view_of(compiled, earlier, duplicate=True)
    _check_redeemable(uow, compiled, item, locked, now)
    _record(uow, program, item, locked.id, rid, now)
    move_points(uow, program, locked, "redemption", rid, item, -item.price, now, "redeemed")
    row = uow.rewards.redemption(program.id, rid)
    assert row is not None
    view = view_of(compiled, row, balance=locked.state.balance)
    tell(uow, program.id, REWARD_REDEEMED, view, now)
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
    reason = why_not(compiled, item, state, int(now.timestamp()))
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
