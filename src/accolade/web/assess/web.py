"""What every hosted assessment page shares: the templates, the headers (framed only by the
origins the settings name), the lead's cookie, and the HTML error page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from accolade.api.access import ApiContext
from accolade.errors import AccoladeError
from accolade.web.assess.lead import COOKIE, COOKIE_SECONDS
from accolade.web.pages import page_headers, template_environment

PREFIX = "/assess"
HERE = Path(__file__).parent
STATIC = HERE / "static"

environment = template_environment(HERE / "templates")


def content_title(key: str) -> str:
    """A next content's key as words (``migration-checklist``: Migration checklist)."""
    words = re.sub(r"[-_]+", " ", key).strip()
    return words[:1].upper() + words[1:]


def number(value: float) -> str:
    """A bound as people write it: 500, not 500.0."""
    return str(int(value)) if float(value).is_integer() else str(value)


environment.filters["content_title"] = content_title
environment.filters["number"] = number


def headers(ctx: ApiContext) -> dict[str, str]:
    return page_headers(ctx.settings.assess_frame_ancestors)


def framed_elsewhere(ctx: ApiContext) -> bool:
    """Whether another site's pages may frame these (not only 'self')."""
    return any(a != "'self'" for a in ctx.settings.assess_frame_ancestors.split())


def render(
    request: Request, template: str, values: Mapping[str, Any], *, status: int = 200
) -> HTMLResponse:
    ctx: ApiContext = request.app.state.context
    text = environment.get_template(template).render(request=request, prefix=PREFIX, **values)
    return HTMLResponse(text, status_code=status, headers=headers(ctx))


def keep_lead(request: Request, response: Response, token: str) -> None:
    """Set the lead's cookie. In another site's iframe it is a third party's cookie, which
    browsers send only when SameSite=None, and accept so only when Secure (over TLS)."""
    ctx: ApiContext = request.app.state.context
    framed = framed_elsewhere(ctx)
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_SECONDS,
        path=PREFIX,
        httponly=True,
        secure=framed or request.url.scheme == "https",
        samesite="none" if framed else "lax",
    )


def error_page(request: Request, status: int, error: AccoladeError | None, text: str) -> Response:
    """The answer to an error under /assess: a page a person can read."""
    return render(request, "error.html", {"status": status, "message": text}, status=status)
