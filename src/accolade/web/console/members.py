"""The console's members pages: search by id, name, attribute, tier and stage; a member's
view (what the portal shows, and the raw ledger a page at a time, each entry explained); an
operator reverses an event or adjusts points, with a reason, each change audited as its user.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from accolade.errors import AccoladeError, Conflict, InsufficientBalance, InvalidInput, NotFound
from accolade.service import members as members_service
from accolade.service.adjustments import adjust_points
from accolade.service.events import event_view
from accolade.service.member_search import MemberSearch, parse_attribute, search
from accolade.service.reverse import reverse
from accolade.web.console.web import PREFIX, ConsolePage, Operator, Signed, headers, render

router = APIRouter(prefix=f"{PREFIX}/members", include_in_schema=False)
PAGE_SIZE = 50
LEDGER_PAGE = 15
ROW_ID_MAX = 2**63 - 1

DONE = {
    "reversed": "The event was reversed.",
    "adjusted": "The points were adjusted.",
}


@router.get("")
def members_page(
    request: Request,
    page: Signed,
    q: Annotated[str, Query(max_length=200)] = "",
    attribute: Annotated[str, Query(max_length=400)] = "",
    tier: Annotated[str, Query(max_length=64)] = "",
    stage: Annotated[str, Query(max_length=64)] = "",
    after: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """``q``: in the member's id or name; ``attribute``: name=value."""
    found: MemberSearch | None = None
    error: AccoladeError | None = None
    tiers: list[tuple[str, str]] = []
    if page.program is not None:
        tiers = [(t.key, t.name) for t in members_service.tiers(page.ctx.store, page.program)]
        try:
            found = search(
                page.ctx.store,
                page.program,
                text=q,
                attribute=parse_attribute(attribute),
                tier=tier,
                stage=stage,
                after=after,
                limit=PAGE_SIZE,
            )
        except InvalidInput as refused:
            error = refused
    query = {"q": q, "attribute": attribute, "tier": tier, "stage": stage}
    return render(
        request,
        "members.html",
        {"found": found, "error": error, "query": query, "tiers": tiers},
        page=page,
        status=error.status if error else 200,
    )


def _member(
    request: Request,
    page: ConsolePage,
    member: str,
    *,
    before: int | None = None,
    done: str | None = None,
    error: AccoladeError | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    if page.program is None:
        raise NotFound("no program published yet: publish one first", field="program")
    store, program = page.ctx.store, page.program
    view = members_service.show(store, program, member, recent=0, clock=page.ctx.clock)
    ledger = members_service.ledger_page(store, program, member, before, LEDGER_PAGE + 1)
    more = len(ledger) > LEDGER_PAGE
    ledger = ledger[:LEDGER_PAGE]
    return render(
        request,
        "member.html",
        {
            "view": view,
            "ledger": ledger,
            "next_before": ledger[-1].id if more else None,
            "done": DONE.get(done or ""),
            "error": error,
            "form": form or {},
        },
        page=page,
        status=status,
    )


@router.get("/{member}")
def member_page(
    request: Request,
    page: Signed,
    member: str,
    before: Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)] = None,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    return _member(request, page, member, before=before, done=done)


@router.get("/{member}/entries/{entry_id}")
def entry_page(request: Request, page: Signed, member: str, entry_id: int) -> Response:
    """One ledger entry and the log row behind it (the event, a reversal, a redemption, a
    manual adjustment...)."""
    if page.program is None:
        raise NotFound("no program published yet: publish one first", field="program")
    found = members_service.explain_entry(page.ctx.store, page.program, member, entry_id)
    return render(request, "entry.html", {"member": member, "found": found}, page=page)


def _done(page: ConsolePage, member: str, what: str) -> Response:
    return RedirectResponse(
        f"{PREFIX}/members/{member}?done={what}", status_code=303, headers=headers(page.ctx)
    )


@router.post("/{member}/reverse")
def reverse_event(
    request: Request,
    page: Operator,
    member: str,
    event_id: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Reverse one of the member's events (NotFound for an event of anybody else)."""
    form = {"event_id": event_id, "reason": reason}
    try:
        if page.program is None:
            raise NotFound("no program published yet: publish one first", field="program")
        if not event_id.strip():
            raise InvalidInput("give the id of the event to reverse", field="event_id")
        owner = event_view(page.ctx.store, page.program, event_id.strip()).member
        if owner != member:
            raise NotFound(f"no event '{event_id}' of {member}", field="event_id")
        reverse(
            page.ctx.store,
            page.program,
            event_id.strip(),
            reason,
            clock=page.ctx.clock,
            actor=page.actor,
        )
    except (InvalidInput, NotFound, Conflict) as error:
        return _member(request, page, member, error=error, form=form, status=error.status)
    return _done(page, member, "reversed")


@router.post("/{member}/adjust")
def adjust(
    request: Request,
    page: Operator,
    member: str,
    points: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Add points to the member's balance (or take them, negative), with a reason."""
    form = {"points": points, "adjust_reason": reason}
    try:
        if page.program is None:
            raise NotFound("no program published yet: publish one first", field="program")
        try:
            amount = int(points.strip().replace(",", "").replace("_", ""))
        except ValueError:
            raise InvalidInput("must be a whole number, e.g. 500 or -200", field="points") from None
        adjust_points(
            page.ctx.store,
            page.program,
            member,
            amount,
            reason,
            actor=page.actor,
            clock=page.ctx.clock,
        )
    except (InvalidInput, NotFound, InsufficientBalance) as error:
        return _member(request, page, member, error=error, form=form, status=error.status)
    return _done(page, member, "adjusted")
