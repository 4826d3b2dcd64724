"""The admin console: the pages the people who run a program open to author and release it,
look up and correct members, approve, and watch the numbers; served by `accolade serve` under
/console on the same service functions as the API (docs/console.md).

A new page: a module here with ``router = APIRouter(prefix=PREFIX, include_in_schema=False)``,
handlers taking ``page: Signed`` (or ``Operator``/``Admin``, web.py) and answering
``render(request, "x.html", {...}, page=page)``; its template extends base.html; add the
module to ROUTERS below.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from accolade.web.console import access, analytics, audit, members, operations, program, routes
from accolade.web.console.web import PREFIX, STATIC, error_page

HTML_ERRORS = (PREFIX, error_page)  # errors under /console are pages (api/errors.py)
ROUTERS = (
    routes.router,
    audit.router,
    access.router,
    members.router,
    operations.router,
    analytics.router,
    program.router,
)


def install(app: FastAPI) -> None:
    """Mount the console's pages and its static files (CSS) on the API's app."""
    for router in ROUTERS:
        app.router.routes.extend(router.routes)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")
