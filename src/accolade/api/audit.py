"""The audit log of the key's program: who changed what, when, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from accolade.api.access import Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES, ROW_ID_MAX
from accolade.service.audit import MAX_PAGE, list_audit
from accolade.service.keys import Principal

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)
Admin = Annotated[Principal, Depends(scoped("program:admin"))]


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description="A console user's email, `api key <id>` or `cli`.")
    action: str = Field(description="What was done, e.g. `api_key.created`.")
    program: str | None
    target: str = Field(description="What it was done to: a user's email, a key's id, ...")
    before: Any = Field(description="The thing as it was (null: it did not exist).")
    after: Any = Field(description="The thing as it is now (null: it is gone).")


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut] = Field(description="Newest first.")
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null: no more."
    )


@router.get("", response_model=AuditPageOut, summary="The program's audit log, newest first")
def audit_log(
    ctx: Ctx,
    principal: Admin,
    before: Annotated[
        int | None, Query(ge=1, le=ROW_ID_MAX, description="`next_before` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> AuditPageOut:
    """The changes made to the key's program (by console users, API keys or the CLI), a page
    at a time; needs the `program:admin` scope."""
    found = list_audit(ctx.store, principal.program_key, before=before, limit=limit)
    return AuditPageOut(
        entries=[AuditEntryOut(**vars(e)) for e in found.entries],
        next_before=found.next_before,
    )
