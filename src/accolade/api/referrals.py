"""Referrals: a member submits one; the CRM moves it through its stages; the pipeline it brings."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from accolade.api.access import Caller, Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES, ROW_ID_MAX
from accolade.service import referrals as referrals_service
from accolade.service.keys import Principal

router = APIRouter(prefix="/v1/referrals", tags=["referrals"], responses=ERROR_RESPONSES)
Writer = Annotated[Principal, Depends(scoped("referrals:write"))]


def _any_but(word: str) -> str:
    """A pattern of any text but ``word``, without look-around (pydantic's regex engine has
    none): a proper prefix of it, a text that leaves it at some character, or one that goes
    on after it."""
    parts = [re.escape(word[:i]) + f"[^{re.escape(word[i])}]" for i in range(len(word))]
    parts += [re.escape(word[:i]) + "$" for i in range(1, len(word))]
    return f"(?s)^(?:{'|'.join([*parts, re.escape(word) + '.'])})"


# GET /v1/referrals/pipeline is the pipeline: no referral may take that id
ReferralId = Annotated[str, Path(max_length=150, pattern=_any_but(referrals_service.RESERVED_ID))]


class SubmitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member: str = Field(min_length=1, max_length=200, description="The referring member.")
    prospect: str = Field(min_length=1, max_length=200, description="The prospect company.")
    domain: str | None = Field(
        default=None, max_length=200, description="Its web domain (acme.com): finds duplicates."
    )
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=320)
    referral_id: str | None = Field(
        default=None,
        max_length=150,
        description="Your id for it (the CRM lead's): the same id again returns the first "
        "result. Generated when left out.",
    )


class MoveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal | None = Field(
        default=None, description="The deal's value in major units (12500.00); needed to win."
    )
    currency: str | None = Field(default=None, description="ISO 4217, with an amount: USD.")
    reason: str | None = Field(
        default=None, max_length=200, description="Why it was lost or disqualified (required)."
    )
    occurred_at: AwareDatetime | None = Field(
        default=None, description="When the CRM saw it happen (default: now)."
    )


@router.post(
    "",
    response_model=referrals_service.Referral,
    status_code=201,
    summary="A member refers a prospect (a later referral of the same prospect is a duplicate)",
    responses={200: {"description": "The same referral id again: the first result"}},
)
async def post_referral(
    body: SubmitRequest, ctx: Ctx, principal: Writer, response: Response
) -> Any:
    done = await run_in_threadpool(
        referrals_service.submit,
        ctx.store,
        principal.program_key,
        body.member,
        body.prospect,
        domain=body.domain,
        contact_name=body.contact_name,
        contact_email=body.contact_email,
        referral_id=body.referral_id,
        clock=ctx.clock,
    )
    if done.duplicate:
        response.status_code = 200
    return done


@router.get(
    "/pipeline",
    response_model=list[referrals_service.PipelineRow],
    summary="Referrals and the pipeline they brought, per member, team or company",
)
def get_pipeline(
    ctx: Ctx,
    principal: Caller,
    by: Annotated[str, Query(max_length=16, description="member, team or company")] = "member",
) -> Any:
    principal.require("members:read")
    return referrals_service.pipeline(ctx.store, principal.program_key, by)


@router.get(
    "",
    response_model=referrals_service.ReferralPage,
    summary="Referrals, newest first: a member's, or every member's",
)
def get_referrals(
    ctx: Ctx,
    principal: Caller,
    member: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    before: Annotated[
        int | None, Query(ge=1, le=ROW_ID_MAX, description="`next_before` of a page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    member = member if member is not None else principal.member
    if member is not None:
        principal.may_read_member(member)
    else:
        principal.require("members:read")
    return referrals_service.referrals(
        ctx.store, principal.program_key, member=member, status=status, before=before, limit=limit
    )


@router.get("/{referral_id}", response_model=referrals_service.Referral, summary="One referral")
def get_referral(referral_id: ReferralId, ctx: Ctx, principal: Caller) -> Any:
    found = referrals_service.referral(ctx.store, principal.program_key, referral_id)
    principal.may_read_member(found.member)
    return found


@router.post(
    "/{referral_id}/{move}",
    response_model=referrals_service.Referral,
    summary="accept, qualify, opportunity, win, lose or disqualify a referral (from the CRM)",
)
async def post_move(
    referral_id: ReferralId,
    move: Annotated[
        str,
        Path(max_length=16, description="accept, qualify, opportunity, win, lose, disqualify"),
    ],
    ctx: Ctx,
    principal: Writer,
    body: MoveRequest | None = None,
) -> Any:
    body = body or MoveRequest()
    at: datetime | None = body.occurred_at
    return await run_in_threadpool(
        referrals_service.move,
        ctx.store,
        principal.program_key,
        referral_id,
        move,
        amount=body.amount,
        currency=body.currency,
        reason=body.reason,
        occurred_at=at,
        clock=ctx.clock,
    )
