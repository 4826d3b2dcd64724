"""Rewards: the catalogue (for a member: what they may redeem), redeeming, the approval queue,
a redemption's decisions, and the code pools of code items."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from accolade.api.access import Caller, Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES, ROW_ID_MAX
from accolade.service import expiry as expiry_service
from accolade.service import redemptions as redemptions_service
from accolade.service import rewards as rewards_service
from accolade.service.keys import Principal

router = APIRouter(tags=["rewards"], responses=ERROR_RESPONSES)
Writer = Annotated[Principal, Depends(scoped("rewards:write"))]
Admin = Annotated[Principal, Depends(scoped("rewards:admin"))]
ProgramAdmin = Annotated[Principal, Depends(scoped("program:admin"))]
Reward = Annotated[str, Path(max_length=64, description="The catalogue item's key.")]
RedemptionId = Annotated[str, Path(max_length=200)]


class RedeemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member: str = Field(min_length=1, max_length=200)
    redemption_id: str | None = Field(
        default=None,
        max_length=150,
        description="Your id for this redemption (an order id): sending it again returns the "
        "first result and spends nothing. Generated when left out.",
    )


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(
        default=None,
        max_length=2000,
        description="Why (a rejection's reason goes into the refund entry), or a tracking note.",
    )


class CodesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codes: list[str] = Field(min_length=1, max_length=100_000)


class CodesAdded(BaseModel):
    added: int  # codes that were not in the pool yet
    free: int  # codes in the pool not handed out


@router.get(
    "/v1/rewards",
    response_model=list[rewards_service.RewardOffer],
    summary="The catalogue; for a member, what they may redeem and whether they can now",
)
def get_rewards(
    ctx: Ctx,
    principal: Caller,
    member: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Only the items this member is eligible for, each with `redeemable` "
            "and the `reason` when not (balance, stock, limit). A member token sees its own.",
        ),
    ] = None,
) -> Any:
    member = member if member is not None else principal.member
    if member is not None:
        principal.may_read_member(member)
    return rewards_service.catalogue(ctx.store, principal.program_key, member, clock=ctx.clock)


@router.post(
    "/v1/rewards/{reward}/redemptions",
    response_model=redemptions_service.Redemption,
    status_code=201,
    summary="Redeem an item for a member: debits the balance, takes a unit of stock",
    responses={200: {"description": "The same redemption id again: the first result"}},
)
async def post_redemption(
    reward: Reward, body: RedeemRequest, ctx: Ctx, principal: Writer, response: Response
) -> Any:
    done = await run_in_threadpool(
        rewards_service.redeem,
        ctx.store,
        principal.program_key,
        body.member,
        reward,
        redemption_id=body.redemption_id,
        clock=ctx.clock,
    )
    if done.duplicate:
        response.status_code = 200
    return done


@router.post(
    "/v1/rewards/{reward}/codes",
    response_model=CodesAdded,
    summary="Add unique codes to a code item's pool (each is handed out once)",
)
async def post_codes(reward: Reward, body: CodesRequest, ctx: Ctx, principal: Admin) -> Any:
    added, free = await run_in_threadpool(
        rewards_service.add_codes,
        ctx.store,
        principal.program_key,
        reward,
        body.codes,
        clock=ctx.clock,
    )
    return CodesAdded(added=added, free=free)


@router.get(
    "/v1/redemptions",
    response_model=redemptions_service.RedemptionPage,
    summary="Redemptions, newest first: a member's history, or the approval queue",
)
def get_redemptions(
    ctx: Ctx,
    principal: Caller,
    member: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[
        str | None,
        Query(
            max_length=16,
            description="requested (the approval queue), approved, fulfilled, rejected or "
            "cancelled.",
        ),
    ] = None,
    before: Annotated[
        int | None, Query(ge=1, le=ROW_ID_MAX, description="`next_before` of a page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    member = member if member is not None else principal.member
    if member is not None:
        principal.may_read_member(member)
    else:
        principal.require("rewards:admin")  # every member's redemptions
    return redemptions_service.redemptions(
        ctx.store, principal.program_key, member=member, status=status, before=before, limit=limit
    )


@router.get(
    "/v1/redemptions/{redemption_id}",
    response_model=redemptions_service.Redemption,
    summary="One redemption, with its code once fulfilled",
)
def get_redemption(redemption_id: RedemptionId, ctx: Ctx, principal: Caller) -> Any:
    found = redemptions_service.redemption(
        ctx.store, principal.program_key, redemption_id, principal.member
    )
    if principal.member is None:
        principal.may_read_member(found.member)
    return found


@router.post(
    "/v1/redemptions/{redemption_id}/{decision}",
    response_model=redemptions_service.Redemption,
    summary="approve, fulfil or reject (rewards:admin), or cancel (rewards:write) a redemption",
)
async def post_decision(
    redemption_id: RedemptionId,
    decision: Annotated[str, Path(max_length=16, description="approve, fulfil, reject, cancel")],
    ctx: Ctx,
    principal: Caller,
    body: DecisionRequest | None = None,
) -> Any:
    principal.require("rewards:write" if decision == "cancel" else "rewards:admin")
    return await run_in_threadpool(
        redemptions_service.decide,
        ctx.store,
        principal.program_key,
        redemption_id,
        decision,
        by=principal.key_id,
        note=body.note if body else None,
        clock=ctx.clock,
    )


@router.post(
    "/v1/points/expire",
    response_model=expiry_service.ExpiryReport,
    summary="Expire points not spent in time, oldest first; warn of what expires soon (daily)",
)
async def post_expire(ctx: Ctx, principal: ProgramAdmin) -> Any:
    return await run_in_threadpool(
        expiry_service.expire_points, ctx.store, principal.program_key, clock=ctx.clock
    )
