"""A member's next best actions, with their reasons, and dismissing one."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from accolade.api.access import Caller, Ctx
from accolade.api.errors import ERROR_RESPONSES
from accolade.service import recommend
from accolade.service.keys import Principal
from accolade.service.recommend import NextActions

router = APIRouter(prefix="/v1/members", tags=["recommendations"], responses=ERROR_RESPONSES)

MemberId = Annotated[str, Path(min_length=1, max_length=200)]


class Dismissed(BaseModel):
    candidate: str
    hidden_until: datetime


@router.get(
    "/{member_id}/next",
    response_model=NextActions,
    summary="A member's next best actions, best first, each with its reasons (none, and why, "
    "for the control arm of an experiment covering recommendations)",
)
def get_next(
    member_id: MemberId,
    ctx: Ctx,
    principal: Caller,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> Any:
    principal.may_read_member(member_id)
    return recommend.next_actions(
        ctx.store, principal.program_key, member_id, limit=limit, clock=ctx.clock
    )


@router.post(
    "/{member_id}/next/{candidate}/dismiss",
    response_model=Dismissed,
    summary="Dismiss a recommended next action (logged; hidden for a while, learned from)",
)
async def post_dismiss(
    member_id: MemberId,
    candidate: Annotated[str, Path(min_length=3, max_length=200)],
    ctx: Ctx,
    principal: Caller,
) -> Any:
    _may_dismiss(principal, member_id)
    until = await run_in_threadpool(
        partial(
            recommend.dismiss,
            ctx.store,
            principal.program_key,
            member_id,
            candidate,
            clock=ctx.clock,
        )
    )
    return Dismissed(candidate=candidate, hidden_until=until)


def _may_dismiss(principal: Principal, member_id: str) -> None:
    """The member themselves (their token), or a key that may change members."""
    if principal.member is not None:
        principal.may_read_member(member_id)
    else:
        principal.require("members:write")
