"""The program: its active version, its versions, upload, validate, publish, roll back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from accolade.api.access import Caller, Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES, BadRequest
from accolade.errors import Forbidden
from accolade.service import programs as programs_service
from accolade.service.keys import Principal

router = APIRouter(prefix="/v1/program", tags=["program"], responses=ERROR_RESPONSES)
Admin = Annotated[Principal, Depends(scoped("program:admin"))]

_YAML_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/yaml": {"schema": {"type": "string"}}},
        "description": "A program file (YAML), as `accolade program validate` takes it.",
    }
}


class VersionOut(BaseModel):
    version: int
    hash: str
    created_at: datetime
    active: bool


class ProgramOut(BaseModel):
    key: str
    version: VersionOut
    source: str = Field(description="The active version's program file (YAML).")
    definition: dict[str, Any] = Field(description="The same, as validated.")


class DraftOut(BaseModel):
    version: int
    new: bool = Field(description="False when identical content was already a version.")


class ValidOut(BaseModel):
    valid: bool
    key: str
    actions: int
    badges: int
    tiers: int


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # `true` is not a number

    to: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Default: the version active before."
    )


class ActiveOut(BaseModel):
    active_version: int


async def _yaml(request: Request) -> str:
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the program file must be UTF-8 text", field="body") from None
    if not text.strip():
        raise BadRequest("send the program file (YAML) as the body", field="body")
    return text


@router.get("", response_model=ProgramOut, summary="The active program version")
def get_program(ctx: Ctx, principal: Caller) -> Any:
    if principal.member is not None:
        raise Forbidden("a member token reads its own member only", field="authorization")
    info, source = programs_service.version_source(ctx.store, principal.program_key)
    definition = programs_service.validate(source).model_dump(mode="json", exclude_none=True)
    return ProgramOut(
        key=principal.program_key,
        version=VersionOut(**vars(info)),
        source=source,
        definition=definition,
    )


@router.get("/versions", response_model=list[VersionOut], summary="Every version, oldest first")
def get_versions(ctx: Ctx, principal: Admin) -> Any:
    return programs_service.versions(ctx.store, principal.program_key)


@router.post(
    "/versions",
    response_model=DraftOut,
    status_code=201,
    openapi_extra=_YAML_BODY,
    summary="Upload a version as a draft (validated, not active)",
)
async def post_version(request: Request, ctx: Ctx, principal: Admin) -> Any:
    source = await _yaml(request)
    version, new = programs_service.add_draft(ctx.store, principal.program_key, source, ctx.clock)
    return DraftOut(version=version, new=new)


@router.post(
    "/versions/{version}/publish",
    response_model=ActiveOut,
    summary="Make a stored version the active one",
)
def post_publish(
    version: Annotated[int, Path(ge=1, le=2**31 - 1)], ctx: Ctx, principal: Admin
) -> Any:
    programs_service.publish_version(ctx.store, principal.program_key, version, ctx.clock)
    return ActiveOut(active_version=version)


@router.post("/rollback", response_model=ActiveOut, summary="Make an earlier version active again")
def post_rollback(ctx: Ctx, principal: Admin, body: RollbackIn | None = None) -> Any:
    to = programs_service.rollback(
        ctx.store, principal.program_key, body.to if body else None, ctx.clock
    )
    return ActiveOut(active_version=to)


@router.post(
    "/validate",
    response_model=ValidOut,
    openapi_extra=_YAML_BODY,
    summary="Validate a program file; every error with its path; nothing is stored",
)
async def post_validate(request: Request, principal: Admin) -> Any:
    program = programs_service.validate(await _yaml(request))
    return ValidOut(
        valid=True,
        key=program.key,
        actions=len(program.actions),
        badges=len(program.badges),
        tiers=len(program.tiers),
    )
