"""Inbound CRM webhooks (no API key: each vendor's signature instead): HubSpot's and
Salesforce's notices of changed records, moving referrals as the program's rules say."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from accolade.api.access import ApiContext, Ctx
from accolade.api.errors import ERROR_RESPONSES
from accolade.errors import Forbidden, InvalidInput, NotFound
from accolade.service import inbound as inbound_service
from accolade.service.inbound import Received

router = APIRouter(prefix="/v1/inbound", tags=["inbound"], responses=ERROR_RESPONSES)
ProgramKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


class InboundResult(BaseModel):
    received: list[Received]


@router.post(
    "/hubspot/{program}",
    response_model=InboundResult,
    summary="HubSpot webhook events (signed with X-HubSpot-Signature-v3)",
)
async def post_hubspot(
    program: ProgramKey,
    request: Request,
    ctx: Ctx,
    x_hubspot_signature_v3: Annotated[str, Header()] = "",
    x_hubspot_request_timestamp: Annotated[str, Header()] = "",
) -> Any:
    secret = ctx.settings.hubspot_app_secret
    if secret is None:
        raise NotFound("inbound HubSpot webhooks are off (ACCOLADE_HUBSPOT_APP_SECRET)", field="")
    body = await request.body()
    with _signed(request, ctx, program):
        inbound_service.verify_hubspot(
            secret.get_secret_value(),
            request.method,
            _uri(request, ctx.settings.public_url),
            body,
            x_hubspot_request_timestamp,
            x_hubspot_signature_v3,
            ctx.clock(),
        )
    changes = inbound_service.hubspot_changes(_json(body))
    received = await run_in_threadpool(
        inbound_service.receive, ctx.store, program, "hubspot", changes, ctx.clock
    )
    return InboundResult(received=received)


@router.post(
    "/salesforce/{program}",
    response_model=InboundResult,
    summary="Salesforce record changes (signed with X-Accolade-Signature)",
)
async def post_salesforce(
    program: ProgramKey,
    request: Request,
    ctx: Ctx,
    x_accolade_signature: Annotated[str, Header()] = "",
    x_accolade_timestamp: Annotated[str, Header()] = "",
) -> Any:
    secret = ctx.settings.salesforce_inbound_secret
    if secret is None:
        raise NotFound(
            "inbound Salesforce notices are off (ACCOLADE_SALESFORCE_INBOUND_SECRET)", field=""
        )
    body = await request.body()
    with _signed(request, ctx, program):
        inbound_service.verify_salesforce(
            secret.get_secret_value(), body, x_accolade_timestamp, x_accolade_signature, ctx.clock()
        )
    changes = inbound_service.salesforce_changes(_json(body))
    received = await run_in_threadpool(
        inbound_service.receive, ctx.store, program, "salesforce", changes, ctx.clock
    )
    return InboundResult(received=received)


@contextmanager
def _signed(request: Request, ctx: ApiContext, program: str) -> Iterator[None]:
    """The signature check, under the limits of credentials: an address whose bad signatures
    used up ACCOLADE_FAILED_AUTH_PER_MINUTE gets 429 before its next is checked; a signed
    request counts against the program's ACCOLADE_RATE_LIMIT_PER_MINUTE."""
    address = request.client.host if request.client else ""
    ctx.failures.check(address)
    try:
        yield
    except Forbidden:
        ctx.failures.charge(address)
        raise
    ctx.limiter.take(f"inbound/{program}")


def _uri(request: Request, public_url: str | None) -> str:
    """The URI HubSpot signed: the address it was given (ACCOLADE_PUBLIC_URL behind a proxy)."""
    if public_url is None:
        return str(request.url)
    query = request.url.query
    return public_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise InvalidInput("the body is not JSON", field="body") from None
