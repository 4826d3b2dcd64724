"""Assessments: a lead's completed result, with which answer gave which score; the report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

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


@router.get(
    "/{assessment}/results",
    response_model=list[assessments_service.ResultView],
    summary="The completed assessments of the leads known by an email (id or email attribute)",
)
def find_results(
    assessment: Annotated[str, Path(max_length=64)],
    email: Annotated[str, Query(max_length=254, description="The address (any case).")],
    ctx: Ctx,
    principal: Annotated[Principal, Depends(scoped("members:read"))],
) -> Any:
    """How a prospect who becomes a member under another id is found again: every lead
    whose id is the address, or whose `email` attribute is (the hosted page's start sets it),
    oldest result first; an empty list when there is none."""
    return assessments_service.results_by_email(ctx.store, principal.program_key, assessment, email)
