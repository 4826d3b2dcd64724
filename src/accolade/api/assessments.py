"""Assessments: a lead's completed result, with which answer gave which score."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from accolade.api.access import Caller, Ctx
from accolade.api.errors import ERROR_RESPONSES
from accolade.service import assessments as assessments_service

router = APIRouter(prefix="/v1/assessments", tags=["assessments"], responses=ERROR_RESPONSES)


@router.get(
    "/{assessment}/results/{lead}",
    response_model=assessments_service.ResultView,
    summary="A lead's completed assessment: scores, level, segment, and each answer's scores",
)
def get_result(
    assessment: Annotated[str, Path(max_length=64)],
    lead: Annotated[str, Path(max_length=200)],
    ctx: Ctx,
    principal: Caller,
) -> Any:
    principal.may_read_member(lead)
    return assessments_service.result(ctx.store, principal.program_key, assessment, lead)
