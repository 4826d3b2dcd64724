"""What every console page shares: the templates, the signed-in user and the program they
are looking at, the role a page or an action needs, the headers a page is sent with, and the
HTML error page.

A page handler takes ``page: Signed`` (any signed-in user) or ``page: Annotated[ConsolePage,
Depends(requires("operator"))]``; it calls services and hands their results to ``render``.
Templates extend ``base.html`` and fill ``title`` and ``main``; they draw a button only when
``may("operator")`` (or "admin") is true for the user, and the handler of its POST checks the
same role again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from accolade.api.access import _TRUST_SECONDS, ApiContext, context
from accolade.errors import AccoladeError, Unauthenticated
from accolade.service import console_users
from accolade.service.console_users import ROLES, ConsoleUser
from accolade.service.programs import program_keys
from accolade.web.console.session import (
    COOKIE,
    ConsoleSession,
    check_csrf,
    csrf_token,
    read_session,
)
from accolade.web.pages import page_headers, template_environment

PREFIX = "/console"
PROGRAM_COOKIE = "accolade_console_program"  # the program chosen in the header's switcher
HERE = Path(__file__).parent
STATIC = HERE / "static"

environment = template_environment(HERE / "templates")

# The sections of the navigation, in order: (path under /console, label). Labels are
# translated where the menu is drawn (base.html); a section without its page yet is still
# listed, so the layout is the one the pages will have.
NAV = (
    ("/", "Home"),
    ("/program", "Program"),
    ("/members", "Members"),
    ("/operations", "Operations"),
    ("/analytics", "Analytics"),
    ("/access", "Access"),
    ("/audit", "Audit"),
)


@dataclass(frozen=True)
class ConsolePage:
    """A signed-in request: the app's context, the user (as they are now), the program they
    are looking at (None before any is published), every program, and the CSRF token."""

    ctx: ApiContext
    user: ConsoleUser
    session: ConsoleSession
    csrf: str
    programs: list[str] = field(default_factory=list)
    program: str | None = None

    @property
    def actor(self) -> str:
        """Who the audit log says made a change from this page."""
        return self.user.email

    def may(self, needed: str) -> bool:
        """Whether the user's role may do what ``needed`` may (viewer < operator < admin)."""
        return console_users.may(self.user.role, needed)


async def signed_in(request: Request, ctx: Annotated[ApiContext, Depends(context)]) -> ConsolePage:
    """The user whose cookie this request carries; Unauthenticated (the sign-in page) without
    one, or when the user was disabled. A POST must also carry the session's CSRF token."""
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        raise Unauthenticated("sign in to use the console", "session")
    known = _trusted(ctx, cookie)
    if known is None:  # database lookups (is the user still enabled? which programs?)
        known = await run_in_threadpool(_read, ctx, cookie)
        if len(ctx.console_sessions) > 10_000:
            ctx.console_sessions.clear()
        ctx.console_sessions[cookie] = (time.monotonic(), known)
    session, user, programs = known
    if request.method == "POST":
        form = await request.form()
        given = form.get("csrf")
        check_csrf(session, given if isinstance(given, str) else None, secret=ctx.secret)
    chosen = request.cookies.get(PROGRAM_COOKIE)
    program = chosen if chosen in programs else (programs[0] if programs else None)
    return ConsolePage(
        ctx, user, session, csrf_token(session, secret=ctx.secret), programs, program
    )


Signed = Annotated[ConsolePage, Depends(signed_in)]


def requires(role: str) -> Callable[[ConsolePage], Coroutine[Any, Any, ConsolePage]]:
    """A dependency: the signed-in page, whose user must have ``role`` or a higher one
    (Forbidden, the 403 page, otherwise)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    async def check(page: Signed) -> ConsolePage:
        console_users.require_role(page.user, role)
        return page

    return check


Operator = Annotated[ConsolePage, Depends(requires("operator"))]
Admin = Annotated[ConsolePage, Depends(requires("admin"))]


def forget_session(ctx: ApiContext, cookie: str | None) -> None:
    """Drop a cookie from the trust window (signed out, or the user changed)."""
    if cookie:
        ctx.console_sessions.pop(cookie, None)


def _read(ctx: ApiContext, cookie: str) -> tuple[ConsoleSession, ConsoleUser, list[str]]:
    session = read_session(cookie, ctx.clock, secret=ctx.secret)
    user = console_users.signed_in_user(ctx.store, session.email)
    return session, user, program_keys(ctx.store)


def _trusted(ctx: ApiContext, cookie: str) -> tuple[ConsoleSession, ConsoleUser, list[str]] | None:
    """What ``cookie`` holds if this app read it within the trust window (as the portal's
    sessions and API keys: a disabled user's sessions end within it) and it has not ended
    since; None when it must be read again."""
    known = ctx.console_sessions.get(cookie)
    if known is None or time.monotonic() - known[0] >= _TRUST_SECONDS:
        return None
    found: tuple[ConsoleSession, ConsoleUser, list[str]] = known[1]
    if ctx.clock() >= found[0].expires_at:
        return None  # read again, and refused as ended
    return found


def headers(ctx: ApiContext) -> dict[str, str]:
    """Sent with every console page (web/pages.py): the console is never framed."""
    return page_headers()


def render(
    request: Request,
    template: str,
    values: Mapping[str, Any],
    *,
    page: ConsolePage | None = None,
    status: int = 200,
) -> HTMLResponse:
    """``template`` with ``values``; every template also gets ``page``, ``csrf``, ``prefix``,
    ``nav``, ``here`` (the path under /console), ``may(role)`` and ``when(datetime)``."""
    ctx: ApiContext = request.app.state.context
    text = environment.get_template(template).render(
        request=request,
        prefix=PREFIX,
        nav=NAV,
        here=_section(request.url.path.removeprefix(PREFIX) or "/"),
        page=page,
        csrf=page.csrf if page else None,
        may=(lambda needed: page is not None and page.may(needed)),
        when=_when,
        **values,
    )
    return HTMLResponse(text, status_code=status, headers=headers(ctx))


def error_page(request: Request, status: int, error: AccoladeError | None, text: str) -> Response:
    """The console's answer to an error: a page a person can read, with a way on (sign in
    again, or back home)."""
    signed_out = isinstance(error, Unauthenticated) and error.field == "session"
    response = render(
        request,
        "error.html",
        {"status": status, "message": text, "signed_out": signed_out},
        status=status,
    )
    if signed_out:
        response.delete_cookie(COOKIE, path=PREFIX)
    return response


def _section(path: str) -> str:
    """The NAV entry a path is under: /access/keys is under /access."""
    if path == "/":
        return "/"
    return "/" + path.strip("/").split("/")[0]


def _when(at: datetime | None) -> str:
    """A time as the console shows it: UTC, to the second (the audit log's times are the
    same in every program's zone)."""
    if at is None:
        return ""
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")
