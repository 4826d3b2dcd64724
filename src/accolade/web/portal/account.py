"""The portal's account pages: the member's history (every ledger entry, and each explained by
its event, rule and version), the rewards catalogue with redeeming and the member's
redemptions, their referrals, and the reference requests they were asked. Everything from the
services the API uses; a form's error re-renders its page naming the field, nothing stored.

A form that creates something (a redemption, a referral) carries an ``attempt`` token made when
its page was drawn: the id it is created under is derived from the member and that token, so a
double submit creates it once, and no member can name an id another member's request made.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from accolade.engine.money import to_major
from accolade.errors import (
    AccoladeError,
    Conflict,
    InsufficientBalance,
    InvalidInput,
    NotFound,
    NotRedeemable,
)
from accolade.program.compiled import REFERENCE_OPT_OUT
from accolade.service import members as members_service
from accolade.service import redemptions as redemptions_service
from accolade.service import references as references_service
from accolade.service import referrals as referrals_service
from accolade.service import rewards as rewards_service
from accolade.service.rewards import RewardOffer
from accolade.web.pages import day_of
from accolade.web.portal.web import PREFIX, Member, Page, headers, render

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ROW_ID_MAX = 2**63 - 1  # a 64-bit id column's largest: no database is asked about a bigger one
HISTORY_PAGE = 25
LIST_PAGE = 25
Attempt = Annotated[str, Form(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Cursor = Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)]


def new_attempt() -> str:
    return secrets.token_urlsafe(16)


def attempt_id(prefix: str, page: Page, attempt: str) -> str:
    """The id a form's submission creates its thing under: one per member and attempt."""
    digest = hashlib.sha256(f"{page.program}\0{page.member}\0{attempt}".encode()).hexdigest()
    return f"{prefix}_{digest[:32]}"


def _redirect(page: Page, path: str, **query: str) -> Response:
    tail = f"?{urlencode(query)}" if query else ""
    return RedirectResponse(f"{PREFIX}{path}{tail}", status_code=303, headers=headers(page.ctx))


# --- history --------------------------------------------------------------------------------


@router.get("/history")
def history(
    request: Request,
    page: Member,
    kind: Annotated[str, Query(max_length=32)] = "",
    rule: Annotated[str, Query(max_length=80)] = "",
    from_day: Annotated[str, Query(max_length=32)] = "",
    to_day: Annotated[str, Query(max_length=32)] = "",
    before: Cursor = None,
) -> Response:
    """Every ledger entry, newest first, a page at a time, filtered by kind, rule and days."""
    filters = {"kind": kind, "rule": rule, "from_day": from_day, "to_day": to_day}
    lines: list[members_service.EntryLine] = []
    error: InvalidInput | None = None
    try:
        lines = members_service.ledger_page(
            page.ctx.store,
            page.program,
            page.member,
            before,
            HISTORY_PAGE,
            kind=kind or None,
            rule=rule or None,
            from_day=day_of(from_day, "from_day"),
            to_day=day_of(to_day, "to_day"),
        )
    except InvalidInput as refused:
        error = refused
    pairs = members_service.ledger_rules(page.ctx.store, page.program, page.member)
    set_filters = {k: v for k, v in filters.items() if v}
    older = (
        f"{PREFIX}/history?{urlencode({**set_filters, 'before': lines[-1].id})}"
        if len(lines) == HISTORY_PAGE
        else None
    )
    return render(
        request,
        "history.html",
        {
            "lines": lines,
            "filters": filters,
            "filtered": bool(set_filters),
            "kinds": sorted({k for k, _ in pairs}),
            "rules": sorted({r for _, r in pairs}),
            "names": members_service.rule_names(page.ctx.store, page.program),
            "older": older,
            "newest": f"{PREFIX}/history?{urlencode(set_filters)}" if before else None,
            "error": error.message if error else None,
            "field": error.field if error else None,
        },
        page=page,
        status=422 if error else 200,
    )


@router.get("/history/{entry_id}")
def entry(
    request: Request, page: Member, entry_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
) -> Response:
    """One entry explained: the event (id, type, time, properties), the rule, the points and
    the program version. Another member's entry is not found."""
    explained = members_service.explain_entry(page.ctx.store, page.program, page.member, entry_id)
    names = members_service.rule_names(page.ctx.store, page.program)
    return render(
        request,
        "entry.html",
        {"entry": explained, "line": explained.line, "names": names},
        page=page,
    )


# --- rewards --------------------------------------------------------------------------------


def worth(offer: RewardOffer) -> str | None:
    """An item's value in money, as a member reads it: ``18.00 EUR``."""
    if offer.value is None:
        return None
    return f"{to_major(int(offer.value['amount']), offer.value['currency']):,} {offer.value['currency']}"


@router.get("/rewards")
def rewards(
    request: Request,
    page: Member,
    redeemed: Annotated[str, Query(max_length=150)] = "",
    before: Cursor = None,
) -> Response:
    """The catalogue (what the member can redeem now, and why not), and their redemptions."""
    store, program, member = page.ctx.store, page.program, page.member
    view = members_service.show(store, program, member, recent=0, clock=page.ctx.clock)
    offers = rewards_service.catalogue(
        store, program, member, everything=True, clock=page.ctx.clock
    )
    mine = redemptions_service.redemptions(
        store, program, member=member, before=before, limit=LIST_PAGE
    )
    done = None
    if redeemed:
        try:
            done = redemptions_service.redemption(store, program, redeemed, member=member)
        except NotFound:
            done = None  # not the member's, or a made-up id: nothing to confirm
    return render(
        request,
        "rewards.html",
        {
            "view": view,
            "offers": offers,
            "worth": {o.key: worth(o) for o in offers},
            "redemptions": mine.items,
            "older": f"{PREFIX}/rewards?{urlencode({'before': mine.next_before})}#redemptions"
            if mine.next_before
            else None,
            "done": done,
        },
        page=page,
    )


def _offer(page: Page, item: str) -> RewardOffer:
    offers = rewards_service.catalogue(
        page.ctx.store, page.program, page.member, everything=True, clock=page.ctx.clock
    )
    found = next((o for o in offers if o.key == item), None)
    if found is None:
        raise NotFound(f"no reward '{item}' in the catalogue", field="reward")
    return found


def confirmation(
    request: Request,
    page: Member,
    item: str,
    *,
    attempt: str | None = None,
    error: AccoladeError | None = None,
) -> Response:
    offer = _offer(page, item)
    view = members_service.show(
        page.ctx.store, page.program, page.member, recent=0, clock=page.ctx.clock
    )
    return render(
        request,
        "redeem.html",
        {
            "offer": offer,
            "worth": worth(offer),
            "view": view,
            "after": view.balance - offer.price,
            "attempt": attempt or new_attempt(),
            "error": error.message if error else None,
        },
        page=page,
        status=error.status if error else 200,
    )


Item = Annotated[str, Path(max_length=64)]


@router.get("/rewards/{item}/redeem")
def confirm_redeem(request: Request, page: Member, item: Item) -> Response:
    """What redeeming the item costs, and the balance after it: one button to confirm."""
    return confirmation(request, page, item)


@router.post("/rewards/{item}/redeem")
def redeem(request: Request, page: Member, item: Item, attempt: Attempt) -> Response:
    """Redeem, once per confirmation page however often it is sent; then the redemptions."""
    try:
        done = rewards_service.redeem(
            page.ctx.store,
            page.program,
            page.member,
            item,
            redemption_id=attempt_id("rdm", page, attempt),
            clock=page.ctx.clock,
        )
    except (InsufficientBalance, NotRedeemable, Conflict, InvalidInput) as refused:
        return confirmation(request, page, item, attempt=attempt, error=refused)
    return _redirect(page, "/rewards", redeemed=done.redemption_id)


# --- referrals ------------------------------------------------------------------------------

REFERRAL_FIELDS = ("prospect", "domain", "contact_name", "contact_email")


def referrals_page(
    request: Request,
    page: Member,
    *,
    before: int | None = None,
    submitted: str = "",
    given: dict[str, str] | None = None,
    attempt: str | None = None,
    error: AccoladeError | None = None,
) -> Response:
    store, program, member = page.ctx.store, page.program, page.member
    mine = referrals_service.referrals(
        store, program, member=member, before=before, limit=LIST_PAGE
    )
    points = referrals_service.referral_points(store, program, member)
    done = next((r for r in mine.items if r.referral_id == submitted), None) if submitted else None
    return render(
        request,
        "referrals.html",
        {
            "referrals": mine.items,
            "points": points,
            "older": f"{PREFIX}/referrals?{urlencode({'before': mine.next_before})}"
            if mine.next_before
            else None,
            "done": done,
            "given": given or dict.fromkeys(REFERRAL_FIELDS, ""),
            "attempt": attempt or new_attempt(),
            "error": error.message if error else None,
            "field": error.field if error else None,
        },
        page=page,
        status=error.status if error else 200,
    )


@router.get("/referrals")
def referrals(
    request: Request,
    page: Member,
    submitted: Annotated[str, Query(max_length=150)] = "",
    before: Cursor = None,
) -> Response:
    """The member's referrals (stage, deal value, points) and a form to refer a prospect."""
    return referrals_page(request, page, before=before, submitted=submitted)


# generous bounds: the service names the field of a value too long, in the page
Text = Annotated[str, Form(max_length=1000)]


@router.post("/referrals")
def submit_referral(
    request: Request,
    page: Member,
    attempt: Attempt,
    prospect: Text = "",
    domain: Text = "",
    contact_name: Text = "",
    contact_email: Text = "",
) -> Response:
    given = {
        "prospect": prospect,
        "domain": domain,
        "contact_name": contact_name,
        "contact_email": contact_email,
    }
    try:
        done = referrals_service.submit(
            page.ctx.store,
            page.program,
            page.member,
            prospect,
            domain=domain.strip() or None,
            contact_name=contact_name or None,
            contact_email=contact_email or None,
            referral_id=attempt_id("ref", page, attempt),
            clock=page.ctx.clock,
        )
    except (InvalidInput, Conflict) as refused:
        return referrals_page(request, page, given=given, attempt=attempt, error=refused)
    return _redirect(page, "/referrals", submitted=done.referral_id)


# --- references -----------------------------------------------------------------------------

ANSWERED = {"accept": "accepted", "decline": "declined"}  # what a member may answer


def references_page(
    request: Request,
    page: Member,
    *,
    done: str = "",
    error: AccoladeError | None = None,
) -> Response:
    mine = references_service.asks_of(page.ctx.store, page.program, page.member)
    return render(
        request,
        "references.html",
        {
            "mine": mine,
            "done": done,
            "error": error.message if error else None,
        },
        page=page,
        status=error.status if error else 200,
    )


@router.get("/references")
def references(
    request: Request, page: Member, done: Annotated[str, Query(max_length=16)] = ""
) -> Response:
    """The reference requests the member was asked, to accept or decline, and their opt-out."""
    return references_page(request, page, done=done)


@router.post("/references/{request_id}/answer")
def answer_reference(
    request: Request,
    page: Member,
    request_id: Annotated[str, Path(max_length=150)],
    answer: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    if answer not in ANSWERED:
        refused = InvalidInput("answer: choose accept or decline", field="answer")
        return references_page(request, page, error=refused)
    try:
        references_service.answer(
            page.ctx.store, page.program, request_id, page.member, answer, clock=page.ctx.clock
        )
    except Conflict as refused:
        return references_page(request, page, error=refused)
    return _redirect(page, "/references", done=ANSWERED[answer])


@router.post("/references/opt-out")
def reference_opt_out(
    request: Request, page: Member, choice: Annotated[str, Form(max_length=8)] = ""
) -> Response:
    """Out of reference requests (``out``), or back in (``in``): the member's
    ``reference_opt_out`` attribute, through a logged member.updated event."""
    mine = references_service.asks_of(page.ctx.store, page.program, page.member)
    if not mine.takes_references:
        raise NotFound("this program takes no reference requests", field="program")
    if choice not in ("out", "in"):
        refused = InvalidInput("choice: choose out or in", field="choice")
        return references_page(request, page, error=refused)
    members_service.update(
        page.ctx.store,
        page.program,
        page.member,
        attributes={REFERENCE_OPT_OUT: True if choice == "out" else None},
        clock=page.ctx.clock,
    )
    return _redirect(page, "/references", done=f"opted-{choice}")
