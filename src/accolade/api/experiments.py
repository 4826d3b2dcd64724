"""Experiments: their arms, the lift they measure (per arm, each outcome with the difference,
its 95% interval and p-value, and the sample-ratio check), and the decisions taken on them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from accolade.api.access import Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES
from accolade.service import experiments as experiments_service
from accolade.service.audit import api_key_actor
from accolade.service.keys import Principal

router = APIRouter(prefix="/v1/experiments", tags=["experiments"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(scoped("analytics:read"))]
Admin = Annotated[Principal, Depends(scoped("program:admin"))]
ExperimentKey = Annotated[str, Path(max_length=64, description="The experiment's key.")]


class ExperimentDecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["ship", "stop", "extend"]
    decided_by: str = Field(min_length=1, max_length=200, description="Who decided.")
    reason: str = Field(min_length=1, max_length=5000, description="Why.")


@router.get(
    "",
    response_model=list[experiments_service.ExperimentSummary],
    summary="Every experiment: its window, its arms' sizes, the latest decision",
)
def get_experiments(ctx: Ctx, principal: Reader) -> Any:
    return experiments_service.experiments(ctx.store, principal.program_key, clock=ctx.clock)


@router.get(
    "/{experiment}",
    response_model=experiments_service.ExperimentReport,
    summary="An experiment's report: per arm, each outcome, the lift with its 95% interval "
    "and p-value, the sample-ratio check, the decisions",
)
def get_report(experiment: ExperimentKey, ctx: Ctx, principal: Reader) -> Any:
    return experiments_service.report(ctx.store, principal.program_key, experiment, clock=ctx.clock)


@router.post(
    "/{experiment}/decision",
    response_model=experiments_service.ExperimentDecision,
    status_code=201,
    summary="Record a decision on an experiment (ship, stop or extend), by whom and why",
)
async def post_decision(
    experiment: ExperimentKey, body: ExperimentDecisionRequest, ctx: Ctx, principal: Admin
) -> Any:
    return await run_in_threadpool(
        experiments_service.decide,
        ctx.store,
        principal.program_key,
        experiment,
        body.decision,
        body.decided_by,
        body.reason,
        clock=ctx.clock,
        actor=api_key_actor(principal.key_id),
    )
