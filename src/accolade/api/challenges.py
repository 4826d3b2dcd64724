"""Challenges as the program owner runs them: completion per segment, and closing windows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool

from accolade.api.access import Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES
from accolade.service import challenges as challenges_service
from accolade.service.keys import Principal

router = APIRouter(prefix="/v1/challenges", tags=["challenges"], responses=ERROR_RESPONSES)
Admin = Annotated[Principal, Depends(scoped("program:admin"))]
By = Annotated[
    str | None,
    Query(max_length=200, description="A member attribute to split the figures by (e.g. region)."),
]


@router.get(
    "",
    response_model=list[challenges_service.ChallengeStats],
    summary="Every challenge with its completion rate",
)
def get_challenges(ctx: Ctx, principal: Admin, by: By = None) -> Any:
    return challenges_service.stats(ctx.store, principal.program_key, by=by, clock=ctx.clock)


@router.get(
    "/{challenge}",
    response_model=challenges_service.ChallengeStats,
    summary="One challenge: eligible, taking part, reached, per segment",
)
def get_challenge(
    challenge: Annotated[str, Path(max_length=64)], ctx: Ctx, principal: Admin, by: By = None
) -> Any:
    [found] = challenges_service.stats(
        ctx.store, principal.program_key, challenge, by=by, clock=ctx.clock
    )
    return found


@router.post(
    "/close",
    response_model=list[challenges_service.ClosedChallenge],
    summary="Close every challenge whose window has ended; pay the first N / top N once",
)
async def post_close(ctx: Ctx, principal: Admin) -> Any:
    return await run_in_threadpool(
        challenges_service.close, ctx.store, principal.program_key, ctx.clock
    )
