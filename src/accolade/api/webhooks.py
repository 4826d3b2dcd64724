"""Webhook subscriptions and their deliveries (scope webhooks:admin)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from accolade.api.access import Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES
from accolade.service import webhooks as webhooks_service
from accolade.service.keys import Principal
from accolade.service.notify import EFFECT_TYPES
from accolade.service.webhooks import Delivery, Subscription

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)
Admin = Annotated[Principal, Depends(scoped("webhooks:admin"))]
RowId = Annotated[int, Path(ge=1, le=2**62)]


class SubscriptionIn(BaseModel):
    url: str = Field(min_length=1, max_length=2000, description="http(s) URL that receives POSTs.")
    types: list[str] = Field(
        default_factory=lambda: ["*"],
        min_length=1,
        description="Effect types (" + ", ".join(EFFECT_TYPES) + "), or `*` for all.",
    )
    description: str = Field(default="", max_length=200)


@router.post("", response_model=Subscription, status_code=201, summary="Subscribe a URL")
def post_subscription(body: SubscriptionIn, ctx: Ctx, principal: Admin) -> Any:
    return webhooks_service.subscribe(
        ctx.store, principal.program_key, body.url, body.types, body.description, ctx.clock
    )


@router.get("", response_model=list[Subscription], summary="The program's subscriptions")
def get_subscriptions(
    ctx: Ctx,
    principal: Admin,
    include_disabled: Annotated[bool, Query()] = False,
) -> Any:
    return webhooks_service.list_subscriptions(ctx.store, principal.program_key, include_disabled)


@router.get("/{subscription_id}", response_model=Subscription, summary="One subscription")
def get_subscription(subscription_id: RowId, ctx: Ctx, principal: Admin) -> Any:
    return webhooks_service.get_subscription(ctx.store, principal.program_key, subscription_id)


@router.delete(
    "/{subscription_id}",
    response_model=Subscription,
    summary="Disable a subscription (its delivery history stays)",
)
def delete_subscription(subscription_id: RowId, ctx: Ctx, principal: Admin) -> Any:
    return webhooks_service.disable_subscription(
        ctx.store, principal.program_key, subscription_id, ctx.clock
    )


@router.get(
    "/{subscription_id}/deliveries",
    response_model=list[Delivery],
    summary="A subscription's deliveries, newest first",
)
def get_deliveries(
    subscription_id: RowId,
    ctx: Ctx,
    principal: Admin,
    status: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Any:
    return webhooks_service.list_deliveries(
        ctx.store, principal.program_key, subscription_id, status, limit
    )


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response_model=Delivery,
    summary="Send a dead (or delivered) delivery again",
)
def post_redeliver(delivery_id: RowId, ctx: Ctx, principal: Admin) -> Any:
    return webhooks_service.redeliver(ctx.store, principal.program_key, delivery_id, ctx.clock)
