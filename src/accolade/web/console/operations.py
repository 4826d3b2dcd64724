"""The console's operations pages: redemptions awaiting approval (an operator approves or
rejects them in bulk), reference requests and the advocates near their ask limit, referrals by
stage, challenges to close (an operator closes them), boards and their archives; webhook
subscriptions with their deliveries and dead letters (an admin redelivers). Every change is
written to the audit log by the service, as its user.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from accolade.engine.referrals import STATUSES as REFERRAL_STATUSES
from accolade.errors import AccoladeError, Conflict, InvalidInput, NotFound
from accolade.service import challenges, leaderboards, redemptions, referrals, webhooks
from accolade.service.reference_overview import reference_overview
from accolade.web.console.web import PREFIX, Admin, ConsolePage, Operator, Signed, headers, render

router = APIRouter(prefix=f"{PREFIX}/operations", include_in_schema=False)
QUEUE_SIZE = 100
LIST_SIZE = 50
MAX_DECISIONS = 100  # redemptions one bulk decision may name

DONE = {
    "approved": "The redemptions were approved.",
    "rejected": "The redemptions were rejected: their points were given back.",
    "fulfilled": "The redemptions were marked fulfilled.",
    "closed": "The challenges due were closed.",
    "nothing_to_close": "No challenge was due to close.",
    "redelivered": "The delivery will be sent again.",
}
_DONE_BY = {"approve": "approved", "reject": "rejected", "fulfil": "fulfilled"}


def _program(page: ConsolePage) -> str:
    if page.program is None:
        raise NotFound("no program published yet: publish one first", field="program")
    return page.program


def _operations(
    request: Request,
    page: ConsolePage,
    *,
    stage: str = "submitted",
    done: str | None = None,
    error: AccoladeError | None = None,
    status: int = 200,
) -> Response:
    values: dict[str, object] = {
        "done": DONE.get(done or ""),
        "error": error,
        "stage": stage,
        "stages": REFERRAL_STATUSES,
    }
    if page.program is not None:
        store, program, clock = page.ctx.store, page.program, page.ctx.clock
        values |= {
            "queue": redemptions.redemptions(
                store, program, status=redemptions.REQUESTED, limit=QUEUE_SIZE
            ),
            "approved": redemptions.redemptions(
                store, program, status=redemptions.APPROVED, limit=QUEUE_SIZE
            ),
            "references": reference_overview(store, program, clock=clock),
            "referrals": referrals.referrals(store, program, status=stage, limit=LIST_SIZE),
            "challenges": challenges.challenge_states(store, program, clock=clock),
            "boards": leaderboards.boards(store, program),
        }
    return render(request, "operations.html", values, page=page, status=status)


@router.get("")
def operations_page(
    request: Request,
    page: Signed,
    stage: Annotated[str, Query(max_length=20)] = "submitted",
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """``stage``: the referrals shown (one of the referral statuses)."""
    if stage not in REFERRAL_STATUSES:
        error = InvalidInput(f"one of {', '.join(REFERRAL_STATUSES)}", field="stage")
        return _operations(request, page, error=error, status=422)
    return _operations(request, page, stage=stage, done=done)


def _done(page: ConsolePage, what: str, path: str = "") -> Response:
    return RedirectResponse(
        f"{PREFIX}/operations{path}?done={what}", status_code=303, headers=headers(page.ctx)
    )


@router.post("/redemptions")
async def decide_redemptions(request: Request, page: Operator) -> Response:
    """Approve, reject or fulfil every redemption ticked, in one transaction each; the first that
    cannot be decided stops the rest and is named."""
    form = await request.form()
    chosen = [str(v) for v in form.getlist("redemption")]
    decision = str(form.get("decision") or "")
    note = str(form.get("note") or "").strip() or None
    try:
        program = _program(page)
        if decision not in _DONE_BY:
            raise InvalidInput("choose approve, reject or fulfil", field="decision")
        if not chosen:
            raise InvalidInput("tick at least one redemption", field="redemption")
        if len(chosen) > MAX_DECISIONS:
            raise InvalidInput(f"at most {MAX_DECISIONS} at once", field="redemption")
        for redemption_id in chosen:
            redemptions.decide(
                page.ctx.store,
                program,
                redemption_id,
                decision,
                by=page.actor,
                note=note,
                clock=page.ctx.clock,
                actor=page.actor,
            )
    except (InvalidInput, NotFound, Conflict) as error:
        return _operations(request, page, error=error, status=error.status)
    return _done(page, _DONE_BY[decision])


@router.post("/challenges/close")
def close_challenges(request: Request, page: Operator) -> Response:
    """Close every challenge whose window has ended: rank and pay its winners."""
    try:
        closed = challenges.close(page.ctx.store, _program(page), page.ctx.clock, actor=page.actor)
    except (InvalidInput, NotFound) as error:
        return _operations(request, page, error=error, status=error.status)
    return _done(page, "closed" if closed else "nothing_to_close")


@router.get("/webhooks")
def webhooks_page(
    request: Request,
    page: Signed,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    return _webhooks(request, page, done=done)


def _webhooks(
    request: Request,
    page: ConsolePage,
    *,
    done: str | None = None,
    error: AccoladeError | None = None,
    status: int = 200,
) -> Response:
    values: dict[str, object] = {"done": DONE.get(done or ""), "error": error}
    if page.program is not None:
        store, program = page.ctx.store, page.program
        values |= {
            "subscriptions": webhooks.list_subscriptions(store, program, include_disabled=True),
            "deliveries": webhooks.list_deliveries(store, program, limit=LIST_SIZE),
            "dead": webhooks.list_deliveries(store, program, status="dead", limit=LIST_SIZE),
        }
    return render(request, "webhooks.html", values, page=page, status=status)


@router.post("/webhooks/redeliver")
def redeliver(
    request: Request,
    page: Admin,
    delivery_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        if not delivery_id.isdigit():
            raise InvalidInput("give a delivery's number", field="delivery_id")
        webhooks.redeliver(
            page.ctx.store, _program(page), int(delivery_id), page.ctx.clock, actor=page.actor
        )
    except (InvalidInput, NotFound, Conflict) as error:
        return _webhooks(request, page, error=error, status=error.status)
    return _done(page, "redelivered", "/webhooks")


@router.get("/boards/{board}")
def board_page(
    request: Request,
    page: Signed,
    board: str,
    window: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """A board in one window (an archive: a closed window's final standings), its top 50."""
    shown = leaderboards.top(
        page.ctx.store, _program(page), board, window=window, limit=LIST_SIZE, clock=page.ctx.clock
    )
    return render(request, "board.html", {"board": shown}, page=page)
