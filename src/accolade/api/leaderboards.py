"""Leaderboards: the boards, a page of one, where a member (team, company) stands, and the
scheduled close of their windows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool

from accolade.api.access import Caller, Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES, ROW_ID_MAX
from accolade.service import leaderboard_windows
from accolade.service import leaderboards as leaderboards_service
from accolade.service.keys import Principal

router = APIRouter(prefix="/v1/leaderboards", tags=["leaderboards"], responses=ERROR_RESPONSES)
Admin = Annotated[Principal, Depends(scoped("program:admin"))]
Board = Annotated[str, Path(max_length=64, description="The leaderboard's key.")]
WindowParam = Annotated[
    str | None,
    Query(
        max_length=16,
        description="`current` (the default), `previous`, or a window's label such as "
        "2026-W47, 2026-11, 2026-Q4, 2026 or 2026-11-25. All-time and rolling boards have one "
        "window.",
    ),
]


@router.get(
    "",
    response_model=list[leaderboards_service.BoardSummary],
    summary="Every leaderboard, with the windows it has scores in",
)
def get_leaderboards(ctx: Ctx, principal: Caller) -> Any:
    return leaderboards_service.boards(ctx.store, principal.program_key)


@router.get(
    "/{board}",
    response_model=leaderboards_service.BoardPage,
    summary="A page of a leaderboard: rank, subject, display name, score",
)
def get_leaderboard(
    board: Board,
    ctx: Ctx,
    principal: Caller,
    window: WindowParam = None,
    partition: Annotated[
        list[str] | None,
        Query(
            max_length=20,
            description="On a partitioned board, each of its attributes as `name:value` "
            "(e.g. `region:EMEA`, `tier:gold`); repeat for several.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0, le=ROW_ID_MAX)] = 0,
) -> Any:
    return leaderboards_service.top(
        ctx.store,
        principal.program_key,
        board,
        window=window,
        partition=leaderboards_service.partition_pairs(partition or []),
        limit=limit,
        offset=offset,
        clock=ctx.clock,
    )


@router.get(
    "/{board}/standings/{subject}",
    response_model=leaderboards_service.SubjectStanding,
    summary="Where a member (or a team, a company) stands: rank, percentile, gap, around",
)
def get_standing(
    board: Board,
    subject: Annotated[str, Path(max_length=200)],
    ctx: Ctx,
    principal: Caller,
    window: WindowParam = None,
    around: Annotated[
        int, Query(ge=0, le=50, description="How many ranked subjects above and below.")
    ] = 5,
) -> Any:
    # a member token reads its own standing on a member board (teams and companies are public)
    board_subject = leaderboards_service.subject_of(ctx.store, principal.program_key, board)
    if board_subject == "member":
        principal.may_read_member(subject)
    return leaderboards_service.standing(
        ctx.store,
        principal.program_key,
        board,
        subject,
        window=window,
        around=around,
        clock=ctx.clock,
    )


@router.post(
    "/close",
    response_model=leaderboard_windows.CloseReport,
    summary="Roll rolling windows to today; close ended windows, keep their standings, pay prizes",
)
async def post_close(ctx: Ctx, principal: Admin) -> Any:
    return await run_in_threadpool(
        leaderboard_windows.close_windows, ctx.store, principal.program_key, ctx.clock
    )
