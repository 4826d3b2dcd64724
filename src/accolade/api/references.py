"""Reference requests: a sales rep asks for matching advocates; asks and their answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from accolade.api.access import Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES
from accolade.service import references as references_service
from accolade.service.keys import Principal

router = APIRouter(prefix="/v1/references", tags=["references"], responses=ERROR_RESPONSES)
Writer = Annotated[Principal, Depends(scoped("references:write"))]
RequestId = Annotated[str, Path(max_length=100)]
Criterion = str | int | float | bool | list[str | int | float | bool]


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria: dict[str, Criterion] = Field(
        default_factory=dict,
        description="Attributes the program's `references.match` lists, and `tier`, `stage`: "
        "a value or a list of values (any of them).",
    )
    count: int = Field(default=5, ge=1, le=references_service.MAX_COUNT)


class NewRequest(MatchRequest):
    requested_by: str = Field(min_length=1, max_length=200, description="The sales rep.")
    note: str | None = Field(default=None, max_length=2000, description="The deal, the ask.")
    request_id: str | None = Field(
        default=None,
        max_length=100,
        description="Your id (the opportunity's): the same id again returns the request.",
    )


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    members: list[str] = Field(min_length=1, max_length=references_service.MAX_COUNT)


@router.post(
    "/match",
    response_model=list[references_service.Candidate],
    summary="The advocates a request would get now, ranked (records nothing)",
)
def post_match(body: MatchRequest, ctx: Ctx, principal: Writer) -> Any:
    return references_service.match(
        ctx.store, principal.program_key, body.criteria, count=body.count, clock=ctx.clock
    )


@router.post(
    "/requests",
    response_model=references_service.ReferenceRequest,
    status_code=201,
    summary="A request for references: recorded, with its ranked candidates",
    responses={200: {"description": "The same request id again"}},
)
async def post_request(body: NewRequest, ctx: Ctx, principal: Writer, response: Response) -> Any:
    made = await run_in_threadpool(
        references_service.request,
        ctx.store,
        principal.program_key,
        body.criteria,
        requested_by=body.requested_by,
        count=body.count,
        note=body.note,
        request_id=body.request_id,
        clock=ctx.clock,
    )
    if made.duplicate:
        response.status_code = 200
    return made


@router.get(
    "/requests/{request_id}",
    response_model=references_service.ReferenceRequest,
    summary="A request, with the advocates asked and their answers",
)
def get_request(request_id: RequestId, ctx: Ctx, principal: Writer) -> Any:
    return references_service.reference_request(ctx.store, principal.program_key, request_id)


@router.post(
    "/requests/{request_id}/asks",
    response_model=references_service.ReferenceRequest,
    summary="Ask advocates for the request (each under the fatigue limits, not opted out)",
)
async def post_asks(request_id: RequestId, body: AskRequest, ctx: Ctx, principal: Writer) -> Any:
    return await run_in_threadpool(
        references_service.ask,
        ctx.store,
        principal.program_key,
        request_id,
        body.members,
        clock=ctx.clock,
    )


@router.post(
    "/requests/{request_id}/asks/{member}/{answer}",
    response_model=references_service.Ask,
    summary="An advocate's answer: accept, decline, or complete (the call took place)",
)
async def post_answer(
    request_id: RequestId,
    member: Annotated[str, Path(max_length=200)],
    answer: Annotated[str, Path(max_length=16, description="accept, decline or complete")],
    ctx: Ctx,
    principal: Writer,
) -> Any:
    return await run_in_threadpool(
        references_service.answer,
        ctx.store,
        principal.program_key,
        request_id,
        member,
        answer,
        clock=ctx.clock,
    )
