"""The hosted assessment: the pages a lead (a prospect) answers an assessment on, one section
at a time, served by `accolade serve` under /assess and embeddable in a landing page; their
answers go through the same ingest as the API's events (docs/assessments.md)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from accolade.web.assess.routes import router
from accolade.web.assess.web import PREFIX, STATIC, error_page

HTML_ERRORS = (PREFIX, error_page)  # errors under /assess are pages (api/errors.py)


def install(app: FastAPI) -> None:
    """Mount the assessment's pages and its static files (CSS) on the API's app."""
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="assess-static")
    app.router.routes.extend(router.routes)
