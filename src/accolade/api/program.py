"""The program: its active version, its versions, upload, validate, publish, roll back, the
rule changes between two versions, and the simulation of a draft over the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from accolade.api.access import Caller, Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES, BadRequest
from accolade.errors import Forbidden
from accolade.service import programs as programs_service
from accolade.service import simulate as simulate_service
from accolade.service.audit import api_key_actor
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
    released_at: datetime | None = Field(
        default=None, description="When the version was last made active (null: never)."
    )
    action: str | None = Field(
        default=None, description="How it was last made active: `publish` or `rollback`."
    )
    notes: str | None = Field(default=None, description="That release's notes.")
    approved_by: str | None = Field(default=None, description="Who approved that release.")


class ProgramOut(BaseModel):
    key: str
    version: VersionOut
    source: str = Field(description="The active version's program file (YAML).")
    definition: dict[str, Any] = Field(description="The same, as validated.")


class DraftOut(BaseModel):
    version: int
    new: bool = Field(description="False when identical content was already a version.")


class WarningOut(BaseModel):
    field: str
    message: str


class ValidOut(BaseModel):
    valid: bool
    key: str
    actions: int
    badges: int
    tiers: int
    warnings: list[WarningOut] = Field(
        default_factory=list,
        description="What does not make the file invalid but should change: an assessment "
        "question whose answer feeds no score, segment, CRM field or sales note.",
    )


class ReleaseIn(BaseModel):
    """The release record of a publish or a rollback; both fields optional."""

    model_config = ConfigDict(extra="forbid", strict=True)  # `true` is not a number

    notes: str | None = Field(
        default=None, max_length=programs_service.NOTES_MAX, description="Why it is released."
    )
    approved_by: str | None = Field(
        default=None,
        min_length=1,
        max_length=programs_service.APPROVER_MAX,
        description="Who approved the release.",
    )


class RollbackIn(ReleaseIn):
    to: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Default: the version active before."
    )


class ChangeOut(BaseModel):
    section: str = Field(description="The program's top-level key: `actions`, `timezone`, ...")
    key: str | None = Field(description="The item's key in a keyed list (null: not a list).")
    field: str | None = Field(
        description="Path inside the item or object (null: the whole item or value)."
    )
    before: Any = Field(description="The value before (null: there was none).")  # any JSON
    after: Any = Field(description="The value after (null: there is none).")  # any JSON
    text: str = Field(description="The change in words.")


class DiffOut(BaseModel):
    program: str
    from_version: int
    to_version: int
    changes: list[ChangeOut]


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
    version, new = programs_service.add_draft(
        ctx.store,
        principal.program_key,
        source,
        ctx.clock,
        actor=api_key_actor(principal.key_id),
    )
    return DraftOut(version=version, new=new)


@router.post(
    "/versions/{version}/publish",
    response_model=ActiveOut,
    summary="Make a stored version the active one",
)
def post_publish(
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
    ctx: Ctx,
    principal: Admin,
    body: ReleaseIn | None = None,
) -> Any:
    release = body or ReleaseIn()
    programs_service.publish_version(
        ctx.store,
        principal.program_key,
        version,
        ctx.clock,
        notes=release.notes,
        approved_by=release.approved_by,
        require_simulation=ctx.settings.publish_requires_simulation,
        actor=api_key_actor(principal.key_id),
    )
    return ActiveOut(active_version=version)


@router.post("/rollback", response_model=ActiveOut, summary="Make an earlier version active again")
def post_rollback(ctx: Ctx, principal: Admin, body: RollbackIn | None = None) -> Any:
    release = body or RollbackIn()
    to = programs_service.rollback(
        ctx.store,
        principal.program_key,
        release.to,
        ctx.clock,
        notes=release.notes,
        approved_by=release.approved_by,
        require_simulation=ctx.settings.publish_requires_simulation,
        actor=api_key_actor(principal.key_id),
    )
    return ActiveOut(active_version=to)


@router.get("/diff", response_model=DiffOut, summary="The rule changes between two versions")
def get_diff(
    ctx: Ctx,
    principal: Admin,
    to: Annotated[int, Query(ge=1, le=2**31 - 1, description="The version compared.")],
    from_: Annotated[
        int | None,
        Query(alias="from", ge=1, le=2**31 - 1, description="Default: the active version."),
    ] = None,
) -> Any:
    found = programs_service.diff(ctx.store, principal.program_key, from_, to)
    return DiffOut(
        program=found.program,
        from_version=found.from_version,
        to_version=to,
        changes=[ChangeOut(**vars(c)) for c in found.changes],
    )


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
        warnings=[
            WarningOut(field=w.field, message=w.message) for w in programs_service.warnings(program)
        ],
    )


class FigureOut(BaseModel):
    """One compared figure: what was given, what the draft would have given."""

    key: str
    actual: int
    simulated: int
    delta: int = Field(description="simulated - actual")


class TierMoveOut(BaseModel):
    member: str
    before: str | None = Field(description="The member's tier now.")
    after: str | None = Field(description="The tier the draft would have them in.")


class BadgeFigureOut(FigureOut):
    """Members holding the badge (in any period), now and under the draft."""

    gained: int
    lost: int
    gained_members: list[str] = Field(description="The first 50 who would gain it, by id.")
    lost_members: list[str] = Field(description="The first 50 who would lose it, by id.")


class PlacedOut(BaseModel):
    subject: str
    score: int


class BoardFigureOut(BaseModel):
    """The top 10 of an all-time leaderboard's partition, now and under the draft."""

    key: str
    partition: str = Field(description='The partition key ("" on an unpartitioned board).')
    actual: list[PlacedOut]
    simulated: list[PlacedOut]
    entered: list[str]
    left: list[str]
    changed: bool


class MemberFiguresOut(BaseModel):
    balance: int
    lifetime: int
    tier: str | None
    badges: list[str]


class MemberDiffOut(BaseModel):
    member: str
    actual: MemberFiguresOut
    simulated: MemberFiguresOut


class RejectedOut(BaseModel):
    type: str
    events: int
    reason: str


class SimulationOut(BaseModel):
    program: str
    active_version: int
    draft_hash: str
    since: datetime | None = Field(description="`from`: the points figures count events from it.")
    until: datetime | None = Field(description="`to`: ... up to it, excluded.")
    events: int = Field(description="Logged events evaluated under the draft.")
    counted: int = Field(description="Of them, those in the range.")
    reversed: int = Field(description="Reversed events, skipped.")
    rejected: list[RejectedOut] = Field(description="Logged events the draft refuses.")
    members: int
    seconds: float
    events_per_second: float
    issued: FigureOut = Field(description="Points issued by the events in the range.")
    points: list[FigureOut] = Field(description="The same per rule (action:..., badge:...).")
    liability: FigureOut = Field(description="The sum of members' balances.")
    overdrawn: FigureOut = Field(description="Members whose balance is below zero.")
    tiers: list[FigureOut] = Field(description="Members per tier.")
    tier_moves: list[TierMoveOut] = Field(description="The first 50 members who move, by id.")
    tier_moves_total: int
    badges: list[BadgeFigureOut]
    leaderboards: list[BoardFigureOut]
    challenges_reached: list[FigureOut] = Field(description="Members who reached each goal.")
    challenges_won: list[FigureOut] = Field(description="Members paid each challenge's reward.")
    member_details: list[MemberDiffOut] = Field(description="The members asked for.")


@router.post(
    "/simulate",
    response_model=SimulationOut,
    openapi_extra=_YAML_BODY,
    summary="Evaluate the event log under a draft program file and compare; nothing live is written",
)
async def post_simulate(
    request: Request,
    ctx: Ctx,
    principal: Admin,
    since: Annotated[
        datetime | None,
        Query(alias="from", description="Count the points of events from this time (UTC)."),
    ] = None,
    until: Annotated[
        datetime | None, Query(alias="to", description="... up to this time, excluded.")
    ] = None,
    member: Annotated[
        list[str] | None, Query(description="A member to compare one by one (repeatable).")
    ] = None,
) -> Any:
    source = await _yaml(request)
    result = await run_in_threadpool(
        simulate_service.simulate,
        ctx.store,
        principal.program_key,
        source,
        since=since,
        until=until,
        members=member or (),
        clock=ctx.clock,
    )
    return SimulationOut.model_validate(result, from_attributes=True)
