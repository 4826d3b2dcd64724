"""Assessments: a lead's completed result, with which answer gave which score; the report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from accolade.api.access import Caller, Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES
from accolade.service import assessment_report
from accolade.service import assessments as assessments_service
from accolade.service.keys import Principal

router = APIRouter(prefix="/v1/assessments", tags=["assessments"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(scoped("analytics:read"))]


@router.get(
    "/{assessment}/report",
    response_model=assessment_report.AssessmentReport,
    summary="Starts, completion, drop-off per question, scores, segments and their conversion",
)
def get_report(assessment: Annotated[str, Path(max_length=64)], ctx: Ctx, principal: Reader) -> Any:
    return assessment_report.report(ctx.store, principal.program_key, assessment)


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
