"""Quests as the program owner sees them: funnels with drop-off per step."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from accolade.api.access import Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES
from accolade.service import quests as quests_service
from accolade.service.keys import Principal

router = APIRouter(prefix="/v1/quests", tags=["quests"], responses=ERROR_RESPONSES)
Admin = Annotated[Principal, Depends(scoped("program:admin"))]


@router.get(
    "",
    response_model=list[quests_service.QuestFunnel],
    summary="Every quest with its funnel: started, each step, completed",
)
def get_quests(ctx: Ctx, principal: Admin) -> Any:
    return quests_service.funnels(ctx.store, principal.program_key)


@router.get(
    "/{quest}/funnel",
    response_model=quests_service.QuestFunnel,
    summary="One quest's funnel: drop-off and median time per step",
)
def get_funnel(quest: Annotated[str, Path(max_length=64)], ctx: Ctx, principal: Admin) -> Any:
    return quests_service.funnel(ctx.store, principal.program_key, quest)
