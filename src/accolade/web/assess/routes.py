"""The hosted assessment's pages: ``GET /assess/{key}`` shows where the lead is (the start,
a section, or their diagnosis), ``POST /assess/{key}/start`` starts, ``POST /assess/{key}``
answers a section. Plain forms, no script: the server picks the next section from the
answers (branching in engine/assessments.py) and everything else comes from
service/assessment_progress.py.

A bad answer re-renders its section with every problem named (422), an answer after
completion shows the diagnosis with why nothing changed (409); nothing is stored then."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from accolade.api.access import ApiContext, context
from accolade.errors import AccoladeError, Conflict, FieldError
from accolade.service import assessment_progress as taking
from accolade.service.assessment_progress import InvalidAnswers, Progress
from accolade.web.assess.lead import (
    COOKIE,
    check_csrf,
    csrf_token,
    lead_token,
    new_lead,
    read_lead,
)
from accolade.web.assess.web import PREFIX, headers, keep_lead, render

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Key = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Ctx = Annotated[ApiContext, Depends(context)]
MAX_VALUES = 200  # a form's fields, at most: no section asks more


@router.get("/{key}")
async def show(
    request: Request,
    key: Key,
    ctx: Ctx,
    lead: Annotated[str | None, Query(max_length=500)] = None,
    section: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Where the lead is. A resume link (``?lead=``) becomes the cookie and leaves the
    address bar at once; a first visit gets a new lead's cookie with the start page."""
    if lead is not None:
        read_lead(lead, secret=ctx.secret)  # refused when forged
        resumed = RedirectResponse(_here(key), status_code=303, headers=headers(ctx))
        keep_lead(request, resumed, lead)
        return resumed
    program = await run_in_threadpool(taking.find_program, ctx.store, key, ctx.settings.program)
    token = request.cookies.get(COOKIE)
    who = _lead_of(ctx, token)
    if who is None:
        who = new_lead()
        token = lead_token(who, secret=ctx.secret)
        now = await run_in_threadpool(taking.progress, ctx.store, program, key, who)
        response = _start_page(request, ctx, now, token)
        keep_lead(request, response, token)
        return response
    assert token is not None
    now = await run_in_threadpool(taking.progress, ctx.store, program, key, who)
    if now.completed:
        return await _done_page(request, ctx, now)
    if not now.started:
        return _start_page(request, ctx, now, token)
    shown = now.current
    if section is not None:
        shown = next((i for i, s in enumerate(now.sections) if s.key == section), now.current)
    return _section_page(request, ctx, now, token, shown)


@router.post("/{key}/start")
async def start(request: Request, key: Key, ctx: Ctx) -> Response:
    """Start: the `assessment.started` event (once), with the email when one is given."""
    form = await request.form(max_fields=MAX_VALUES)
    token, who = _checked(request, ctx, form.get("csrf"))
    email = form.get("email")
    email = email if isinstance(email, str) else ""
    program = await run_in_threadpool(taking.find_program, ctx.store, key, ctx.settings.program)
    try:
        await run_in_threadpool(
            lambda: taking.start(ctx.store, program, key, who, email[:320], clock=ctx.clock)
        )
    except InvalidAnswers as exc:
        now = await run_in_threadpool(taking.progress, ctx.store, program, key, who)
        return _start_page(request, ctx, now, token, errors=exc.errors, email=email, status=422)
    except Conflict:
        return RedirectResponse(_here(key), status_code=303, headers=headers(ctx))
    return RedirectResponse(_here(key), status_code=303, headers=headers(ctx))


@router.post("/{key}")
async def answer(request: Request, key: Key, ctx: Ctx) -> Response:
    """Answer a section; on to the next one, or the diagnosis after the last."""
    form = await request.form(max_fields=MAX_VALUES)
    token, who = _checked(request, ctx, form.get("csrf"))
    section = str(form.get("section") or "")
    attempt = str(form.get("attempt") or "")[:64] or secrets.token_urlsafe(16)
    given = {
        name.removeprefix("q."): [v for v in form.getlist(name) if isinstance(v, str)]
        for name in form
        if name.startswith("q.")
    }
    program = await run_in_threadpool(taking.find_program, ctx.store, key, ctx.settings.program)
    try:
        after = await run_in_threadpool(
            lambda: taking.answer_section(
                ctx.store, program, key, who, section, given, attempt, clock=ctx.clock
            )
        )
    except InvalidAnswers as exc:
        now = await run_in_threadpool(taking.progress, ctx.store, program, key, who)
        index = now.index_of(section)
        return _section_page(
            request, ctx, now, token, index, errors=exc.errors, given=given, status=422
        )
    except Conflict as exc:
        now = await run_in_threadpool(taking.progress, ctx.store, program, key, who)
        if not now.completed:
            raise
        return await _done_page(request, ctx, now, error=exc.message, status=409)
    if after.completed:
        return RedirectResponse(_here(key), status_code=303, headers=headers(ctx))
    # the next section the answers leave in; after the last, the first still unanswered
    following = after.index_of(section) + 1
    target = after.sections[following if following < len(after.sections) else after.current].key
    return RedirectResponse(
        f"{_here(key)}?section={quote(target)}", status_code=303, headers=headers(ctx)
    )


def _here(key: str) -> str:
    return f"{PREFIX}/{quote(key)}"


def _lead_of(ctx: ApiContext, token: str | None) -> str | None:
    if not token:
        return None
    try:
        return read_lead(token, secret=ctx.secret)
    except AccoladeError:
        return None  # a cookie from another server secret: a new lead


def _checked(request: Request, ctx: ApiContext, given: object) -> tuple[str, str]:
    """The lead's token and id, once the form's CSRF token is theirs."""
    token = request.cookies.get(COOKIE)
    who = _lead_of(ctx, token)
    check_csrf(who, given if isinstance(given, str) else None, secret=ctx.secret)
    assert token is not None and who is not None
    return token, who


def _common(request: Request, ctx: ApiContext, now: Progress, token: str) -> dict[str, Any]:
    resume = f"{str(request.base_url).rstrip('/')}{_here(now.assessment.key)}?lead={token}"
    return {
        "assessment": now.assessment.definition,
        "progress": now,
        "csrf": csrf_token(now.lead, secret=ctx.secret),
        "resume": resume,
        "action": _here(now.assessment.key),
    }


def _start_page(
    request: Request,
    ctx: ApiContext,
    now: Progress,
    token: str,
    *,
    errors: list[FieldError] | None = None,
    email: str = "",
    status: int = 200,
) -> Response:
    values = _common(request, ctx, now, token)
    values.update(errors=errors or [], email=email, questions=len(now.assessment.questions))
    return render(request, "start.html", values, status=status)


def _section_page(
    request: Request,
    ctx: ApiContext,
    now: Progress,
    token: str,
    index: int,
    *,
    errors: list[FieldError] | None = None,
    given: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    section = now.sections[index]
    if given is None:  # what the lead answered before, as the form's values
        given = {}
        for question in section.questions:
            if question.key in now.answers:
                found = now.answers[question.key]
                given[question.key] = [
                    str(v) for v in (found if isinstance(found, list) else [found])
                ]
    values = _common(request, ctx, now, token)
    values.update(
        section=section,
        number=index + 1,
        count=len(now.sections),
        previous=now.sections[index - 1].key if index > 0 else None,
        last=index == len(now.sections) - 1,
        given=given,
        errors=errors or [],
        problems={e.field: e.message for e in errors or []},
        attempt=secrets.token_urlsafe(16),
    )
    return render(request, "section.html", values, status=status)


async def _done_page(
    request: Request, ctx: ApiContext, now: Progress, *, error: str = "", status: int = 200
) -> Response:
    found = await run_in_threadpool(taking.diagnosis, ctx.store, now)
    values = {"assessment": now.assessment.definition, "diagnosis": found, "error": error}
    return render(request, "done.html", values, status=status)
