"""The console's way in and out, its home page and the header's program switcher.

Sign-in checks the email and password with service/console_users.py (argon2 hashes, lock-out
after repeated failures); the answer to a wrong one says nothing of whether the email exists.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from accolade.api.access import ApiContext, context
from accolade.errors import Unauthenticated
from accolade.service.console_users import ROLE_RIGHTS
from accolade.service.programs import versions
from accolade.web.console.session import (
    COOKIE,
    SIGN_IN_COOKIE,
    SIGN_IN_FORM_SECONDS,
    CsrfRefused,
    check_sign_in_csrf,
    sign_in,
    sign_in_csrf,
    sign_in_nonce,
)
from accolade.web.console.web import (
    PREFIX,
    PROGRAM_COOKIE,
    Signed,
    forget_session,
    headers,
    render,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _sign_in_form(
    request: Request, ctx: ApiContext, *, email: str = "", error: str | None = None, status: int
) -> Response:
    """The sign-in page, with a fresh nonce cookie its CSRF token is derived from."""
    nonce = sign_in_nonce()
    response = render(
        request,
        "signin.html",
        {"email": email, "error": error, "signin_csrf": sign_in_csrf(nonce, secret=ctx.secret)},
        status=status,
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        nonce,
        max_age=SIGN_IN_FORM_SECONDS,
        path=f"{PREFIX}/signin",
        httponly=True,
        secure=_secure(request),
        samesite="strict",
    )
    return response


@router.get("/signin")
def sign_in_page(request: Request, ctx: Annotated[ApiContext, Depends(context)]) -> Response:
    return _sign_in_form(request, ctx, status=200)


@router.post("/signin")
async def sign_in_post(
    request: Request,
    ctx: Annotated[ApiContext, Depends(context)],
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check the email and password; on success a session cookie and the home page."""
    try:
        check_sign_in_csrf(request.cookies.get(SIGN_IN_COOKIE), csrf, secret=ctx.secret)
    except CsrfRefused as refused:
        return _sign_in_form(request, ctx, email=email, error=refused.message, status=403)
    ttl = timedelta(seconds=ctx.settings.console_session_seconds)
    try:  # argon2 takes a while by design: off the event loop
        cookie, _ = await run_in_threadpool(
            sign_in, ctx.store, email, password, ttl, ctx.clock, secret=ctx.secret
        )
    except Unauthenticated as refused:
        return _sign_in_form(request, ctx, email=email, error=refused.message, status=401)
    response = RedirectResponse(f"{PREFIX}/", status_code=303, headers=headers(ctx))
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=ctx.settings.console_session_seconds,
        path=PREFIX,
        httponly=True,
        secure=_secure(request),
        samesite="strict",
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=f"{PREFIX}/signin")
    return response


@router.post("/signout")
def sign_out(request: Request, page: Signed) -> Response:
    forget_session(page.ctx, request.cookies.get(COOKIE))
    response = RedirectResponse(f"{PREFIX}/signin", status_code=303, headers=headers(page.ctx))
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/switch")
def switch_program(
    request: Request,
    page: Signed,
    program: Annotated[str, Query(max_length=200)],
    back: Annotated[str, Query(max_length=2000)] = f"{PREFIX}/",
) -> Response:
    """The header's switcher: remember the program chosen, then back to the page it was on
    (a page of the console only)."""
    if program not in page.programs:
        program = page.program or ""
    if not back.startswith(f"{PREFIX}/") or back.startswith(f"{PREFIX}//"):
        back = f"{PREFIX}/"
    response = RedirectResponse(back, status_code=303, headers=headers(page.ctx))
    response.set_cookie(
        PROGRAM_COOKIE,
        program,
        path=PREFIX,
        httponly=True,
        secure=_secure(request),
        samesite="strict",
    )
    return response


@router.get("", include_in_schema=False)
def bare(page: Signed) -> Response:
    return RedirectResponse(f"{PREFIX}/", status_code=307, headers=headers(page.ctx))


@router.get("/")
def home(request: Request, page: Signed) -> Response:
    """The programs, the active version of the one chosen, and where to go from here."""
    active = None
    if page.program is not None:
        found = versions(page.ctx.store, page.program)
        active = next((v for v in found if v.active), None)
    return render(
        request,
        "home.html",
        {"active": active, "rights": ROLE_RIGHTS},
        page=page,
    )
