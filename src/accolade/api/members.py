"""A member's balances, tier, badges and ledger; their attributes; member tokens."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from accolade.api.access import Caller, Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES, ROW_ID_MAX
from accolade.engine.events import AttributeValue
from accolade.service import members as members_service
from accolade.service.keys import Principal, mint_member_token
from accolade.service.members import EntryLine, MemberView

router = APIRouter(prefix="/v1/members", tags=["members"], responses=ERROR_RESPONSES)


class LedgerPage(BaseModel):
    entries: list[EntryLine]
    next_cursor: int | None = Field(description="Pass as `cursor` for the next (older) page.")


@router.get(
    "/{member_id}",
    response_model=MemberView,
    summary="A member's balances, tier, badges and streaks",
)
def get_member(member_id: str, ctx: Ctx, principal: Caller) -> Any:
    principal.may_read_member(member_id)
    return members_service.show(ctx.store, principal.program_key, member_id, clock=ctx.clock)


@router.get(
    "/{member_id}/ledger", response_model=LedgerPage, summary="A member's ledger, newest first"
)
def get_ledger(
    member_id: str,
    ctx: Ctx,
    principal: Caller,
    cursor: Annotated[
        int | None, Query(ge=1, le=ROW_ID_MAX, description="`next_cursor` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    principal.may_read_member(member_id)
    lines = members_service.ledger_page(ctx.store, principal.program_key, member_id, cursor, limit)
    return LedgerPage(
        entries=lines,
        next_cursor=lines[-1].id if len(lines) == limit else None,
    )


@router.get(
    "/{member_id}/explain",
    response_model=list[EntryLine],
    summary="Every point, and what earned it",
)
def get_explain(member_id: str, ctx: Ctx, principal: Caller) -> Any:
    principal.may_read_member(member_id)
    return members_service.explain(ctx.store, principal.program_key, member_id)


class MemberChange(BaseModel):
    """What to change; attributes are merged (null clears one). Recorded in the event log as a
    `member.updated` event, so replay rebuilds it."""

    model_config = ConfigDict(extra="forbid")

    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    team: str | None = Field(default=None, min_length=1, max_length=200)
    company: str | None = Field(default=None, min_length=1, max_length=200)


@router.patch("/{member_id}", response_model=MemberView, summary="Change a member's attributes")
async def patch_member(
    member_id: Annotated[str, Field(max_length=200)],
    change: MemberChange,
    ctx: Ctx,
    principal: Annotated[Principal, Depends(scoped("members:write"))],
    idempotency_key: Annotated[str | None, Header(max_length=150)] = None,
) -> Any:
    return await run_in_threadpool(
        partial(
            members_service.update,
            ctx.store,
            principal.program_key,
            member_id,
            attributes=change.attributes,
            team=change.team,
            company=change.company,
            idempotency_key=idempotency_key,
            clock=ctx.clock,
        )
    )


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # `true` is not a number

    ttl_seconds: int | None = Field(default=None, ge=1, le=86400)


class TokenOut(BaseModel):
    token: str = Field(
        description="Send as `Authorization: Bearer mt_...`; reads this member only."
    )
    expires_at: datetime


@router.post(
    "/{member_id}/token",
    response_model=TokenOut,
    summary="Mint a short-lived token that reads this member's own progress",
)
def post_token(
    member_id: Annotated[str, Field(min_length=1, max_length=200)],
    ctx: Ctx,
    principal: Caller,
    request: TokenRequest | None = None,
) -> Any:
    ttl = (request.ttl_seconds if request else None) or ctx.settings.member_token_ttl_seconds
    token, expires = mint_member_token(
        ctx.store, principal, member_id, timedelta(seconds=ttl), ctx.clock, secret=ctx.secret
    )
    return TokenOut(token=token, expires_at=expires)
