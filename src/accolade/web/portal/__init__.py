"""The member portal: the pages a member opens to see progress, earn, redeem and share,
served by `accolade serve` under /portal on the same service functions as the API."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from accolade.web.portal import account, progress
from accolade.web.portal.routes import router
from accolade.web.portal.web import PREFIX, STATIC, error_page

HTML_ERRORS = (PREFIX, error_page)  # errors under /portal are pages (api/errors.py)


def install(app: FastAPI) -> None:
    """Mount the portal's pages and its static files (CSS) on the API's app."""
    app.router.routes.extend(router.routes)
    app.router.routes.extend(progress.router.routes)
    app.router.routes.extend(account.router.routes)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="portal-static")
