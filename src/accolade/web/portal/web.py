"""What every portal page shares: the templates, the signed-in member, the headers a page is
sent with, and the HTML error page.

Text lives in the templates, every visible string wrapped in ``_()`` or ``{% trans %}``
(Jinja2's i18n extension, with null translations today): one place a translation catalogue
can be extracted from (`pybabel extract`). tests/portal/test_portal_text.py keeps it so.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from accolade.api.access import _TRUST_SECONDS, ApiContext, context
from accolade.errors import AccoladeError, Unauthenticated
from accolade.web.pages import page_headers, template_environment
from accolade.web.portal.session import COOKIE, PortalSession, check_csrf, csrf_token, read_session

PREFIX = "/portal"
HERE = Path(__file__).parent
STATIC = HERE / "static"

environment = template_environment(HERE / "templates")


def benefits(values: Mapping[str, Any]) -> str:
    """A tier's or stage's benefits in words: ``exclusive webinars, discount 10``."""
    return ", ".join(
        name.replace("_", " ") if value is True else f"{name.replace('_', ' ')} {value}"
        for name, value in values.items()
        if value is not False and value is not None
    )


environment.filters["benefits"] = benefits

# The links of the menu, in order: (path under /portal, label). Labels are translated where
# the menu is drawn (base.html).
MENU = (
    ("/", "Home"),
    ("/quests", "Quests"),
    ("/challenges", "Challenges"),
    ("/badges", "Badges"),
    ("/leaderboards", "Leaderboards"),
    ("/history", "History"),
    ("/rewards", "Rewards"),
    ("/referrals", "Referrals"),
    ("/references", "References"),
)


@dataclass(frozen=True)
class Page:
    """A signed-in request: the app's context, the session and its CSRF token."""

    ctx: ApiContext
    session: PortalSession
    csrf: str

    @property
    def member(self) -> str:
        return self.session.member

    @property
    def program(self) -> str:
        return self.session.program_key


async def signed_in(request: Request, ctx: Annotated[ApiContext, Depends(context)]) -> Page:
    """The member whose cookie this request carries; Unauthenticated (the signed-out page)
    without one. A POST must also carry the session's CSRF token."""
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        raise Unauthenticated("open the portal from the link your program gave you", "session")
    session = _trusted(ctx, cookie)
    if session is None:  # a database lookup (is its key revoked?): off the event loop
        session = await run_in_threadpool(
            read_session, ctx.store, cookie, ctx.clock, secret=ctx.secret
        )
        if len(ctx.portal_sessions) > 10_000:
            ctx.portal_sessions.clear()
        ctx.portal_sessions[cookie] = (time.monotonic(), session)
    if request.method == "POST":
        form = await request.form()
        given = form.get("csrf")
        check_csrf(session, given if isinstance(given, str) else None, secret=ctx.secret)
    return Page(ctx, session, csrf_token(session, secret=ctx.secret))


Member = Annotated[Page, Depends(signed_in)]


def _trusted(ctx: ApiContext, cookie: str) -> PortalSession | None:
    """The session ``cookie`` holds if this app read it within the trust window (as API keys
    and member tokens, api/access.py: a revoked key's sessions end within it) and it has not
    ended since; None when it must be read again."""
    known = ctx.portal_sessions.get(cookie)
    if known is None or time.monotonic() - known[0] >= _TRUST_SECONDS:
        return None
    session: PortalSession = known[1]
    if ctx.clock() >= session.expires_at:
        return None  # read again, and refused as ended
    return session


def headers(ctx: ApiContext) -> dict[str, str]:
    """Sent with every portal page (web/pages.py), framed only by the origins the settings
    name."""
    return page_headers(ctx.settings.portal_frame_ancestors)


def render(
    request: Request,
    template: str,
    values: Mapping[str, Any],
    *,
    page: Page | None = None,
    status: int = 200,
    zone: ZoneInfo | None = None,
) -> HTMLResponse:
    """``template`` with ``values``, times shown in ``zone`` (the program's, looked up when not
    given)."""
    ctx: ApiContext = request.app.state.context
    zone = zone if zone is not None else _zone(page)
    text = environment.get_template(template).render(
        request=request,
        prefix=PREFIX,
        menu=MENU,
        here=request.url.path.removeprefix(PREFIX) or "/",
        page=page,
        csrf=page.csrf if page else None,
        zone=zone,
        when=lambda at: _when(at, zone),
        **values,
    )
    return HTMLResponse(text, status_code=status, headers=headers(ctx))


def error_page(request: Request, status: int, error: AccoladeError | None, text: str) -> Response:
    """The portal's answer to an error: a page a person can read, with a way back."""
    signed_out = isinstance(error, Unauthenticated)
    response = render(
        request,
        "error.html",
        {"status": status, "message": text, "signed_out": signed_out},
        status=status,
    )
    if signed_out and error is not None and error.field == "session":
        response.delete_cookie(COOKIE, path=PREFIX)
    return response


def _zone(page: Page | None) -> ZoneInfo:
    """The program's zone, which the member's times are shown in (one small query: the
    compiled version is cached)."""
    if page is None:
        return ZoneInfo("UTC")
    from accolade.service.programs import active

    with page.ctx.store.read() as uow:
        return active(uow, page.program).compiled.zone


def _when(at: datetime | None, zone: ZoneInfo) -> str:
    if at is None:
        return ""
    return at.astimezone(zone).strftime("%d %b %Y, %H:%M")
