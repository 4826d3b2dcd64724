"""POST /v1/events (one or a batch), reversal, and what became of an event."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from accolade.api.access import Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES, BadRequest, error_json, status_of
from accolade.engine.effects import Status
from accolade.engine.events import MAX_DEPTH
from accolade.errors import InvalidInput
from accolade.service.events import EventView, event_view
from accolade.service.ingest import IngestReport, Outcome, ingest_batch
from accolade.service.keys import Principal
from accolade.service.reverse import reverse

router = APIRouter(prefix="/v1/events", tags=["events"], responses=ERROR_RESPONSES)
Writer = Annotated[Principal, Depends(scoped("events:write"))]

MAX_BATCH = 1000


class EventResult(BaseModel):
    """What became of one event: accepted (with its entries), limited, duplicate (with the
    first result), or rejected (with the field and the reason)."""

    id: str | None
    status: str
    points: int | None = None
    entries: list[dict[str, Any]] | None = None
    notes: list[str] | None = None
    first: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class BatchResult(BaseModel):
    accepted: int
    limited: int
    duplicate: int
    rejected: int
    results: list[EventResult]


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Event"},
                        {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Event"},
                            "minItems": 1,
                            "maxItems": MAX_BATCH,
                        },
                    ]
                }
            }
        },
    }
}


@router.post(
    "",
    response_model=EventResult | BatchResult,
    openapi_extra=_BODY,
    summary="Send one event, or a batch of up to 1,000",
    responses={200: {"description": "A duplicate (one event) or a batch: a result per event"}},
    status_code=201,
)
async def post_events(
    request: Request,
    ctx: Ctx,
    principal: Writer,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Any:
    """Idempotent by event id: the same id again returns the first result and writes
    nothing; the same id with another body is a conflict. A single event may leave out its
    `id` when an `Idempotency-Key` header gives it."""
    items, single = _events_of(await request.body(), idempotency_key)
    outcomes = await run_in_threadpool(
        ingest_batch,
        ctx.store,
        principal.program_key,
        list(enumerate(items)),
        clock=ctx.clock,
    )
    # The results are plain dicts already: building the response models only to dump them
    # again took a sixth of a batch request's time. They are the shapes of EventResult and
    # BatchResult, which document them (tests check the two against the schema).
    results = [_result(o) for o in outcomes]
    if single:
        outcome = outcomes[0]
        if outcome.status is Status.REJECTED:
            assert outcome.error is not None
            return JSONResponse(error_json(outcome.error), status_code=status_of(outcome.error))
        code = 201 if outcome.status in (Status.ACCEPTED, Status.LIMITED) else 200
        return FastJSONResponse(results[0], status_code=code)
    report = IngestReport()
    report.add_all(outcomes)
    batch = {
        "accepted": report.accepted,
        "limited": report.limited,
        "duplicate": report.duplicate,
        "rejected": report.rejected,
        "results": results,
    }
    return FastJSONResponse(batch, status_code=200)


def _events_of(raw: bytes, idempotency_key: str | None) -> tuple[list[Any], bool]:
    """The events of a body (one object or an array of them), and whether it was one; a
    single event without an ``id`` takes the Idempotency-Key's. BadRequest or InvalidInput,
    naming the body, for anything else."""
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest("the body is not valid JSON", field="body") from None
    except RecursionError:  # the parser's own limit, far above MAX_DEPTH for properties
        raise BadRequest(
            f"the body nests objects and lists too deeply (properties: at most {MAX_DEPTH} levels)",
            field="body",
        ) from None
    if isinstance(body, dict):
        if idempotency_key and "id" not in body:
            body = {"id": idempotency_key, **body}
        return [body], True
    if not isinstance(body, list):
        raise InvalidInput("send an event object or an array of events", field="body")
    if not body:
        raise InvalidInput("send at least one event", field="body")
    if len(body) > MAX_BATCH:
        raise InvalidInput(
            f"at most {MAX_BATCH:,} events per request, got {len(body):,}", field="body"
        )
    return body, False


def _result(outcome: Outcome) -> dict[str, Any]:
    """An EventResult as JSON-ready data, without the fields it does not have."""
    result = {"id": outcome.event_id, **outcome.result}
    return {k: v for k, v in result.items() if v is not None}


class FastJSONResponse(JSONResponse):
    """JSONResponse's output (compact, UTF-8) from pydantic-core's encoder, several times
    faster than json.dumps on a batch's results."""

    def render(self, content: Any) -> bytes:
        return to_json(content)


class Reversal(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # `true` is not a number

    reason: str = Field(min_length=1, max_length=1000, description="Why, in words a member reads.")


@router.post("/{event_id}/reversal", summary="Reverse an event and everything it caused")
def post_reversal(event_id: str, reversal: Reversal, ctx: Ctx, principal: Writer) -> dict[str, Any]:
    """The member ends as if the event had never arrived (badges and tiers that depended on
    it are revoked, with entries saying why). The same reversal again returns its first
    result; another reason for the same event is a conflict."""
    return reverse(ctx.store, principal.program_key, event_id, reversal.reason, clock=ctx.clock)


@router.get("/{event_id}", response_model=EventView, summary="An event and its effects")
def get_event(event_id: str, ctx: Ctx, principal: Writer) -> Any:
    return event_view(ctx.store, principal.program_key, event_id)
