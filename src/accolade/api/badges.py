"""The program's badges and tiers, with how many members hold each."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from accolade.api.access import Caller, Ctx
from accolade.api.errors import ERROR_RESPONSES
from accolade.service import members as members_service

router = APIRouter(prefix="/v1", tags=["badges and tiers"], responses=ERROR_RESPONSES)


@router.get(
    "/badges", response_model=list[members_service.BadgeInfo], summary="Badges, with their holders"
)
def get_badges(ctx: Ctx, principal: Caller) -> Any:
    principal.require("members:read")
    return members_service.badges(ctx.store, principal.program_key)


@router.get(
    "/tiers", response_model=list[members_service.TierInfo], summary="Tiers, with their members"
)
def get_tiers(ctx: Ctx, principal: Caller) -> Any:
    principal.require("members:read")
    return members_service.tiers(ctx.store, principal.program_key)
