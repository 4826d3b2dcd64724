"""The console's audit page: every change, newest first, a page at a time, of every program
or of one (service/audit.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from accolade.service.audit import list_audit
from accolade.web.console.web import PREFIX, Signed, render

router = APIRouter(prefix=PREFIX, include_in_schema=False)
PAGE_SIZE = 50
ROW_ID_MAX = 2**63 - 1


@router.get("/audit")
def audit_page(
    request: Request,
    page: Signed,
    program: Annotated[str, Query(max_length=200)] = "",
    before: Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)] = None,
) -> Response:
    """``program``: that program's changes only (empty: every change, users' too)."""
    chosen = program if program in page.programs else None
    found = list_audit(page.ctx.store, chosen, before=before, limit=PAGE_SIZE)
    return render(
        request,
        "audit.html",
        {"entries": found.entries, "next_before": found.next_before, "chosen": chosen or ""},
        page=page,
    )
