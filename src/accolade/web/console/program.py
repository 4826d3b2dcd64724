"""The console's program pages: the versions with their release records and the rule changes
between any two (/console/program), and the draft editor (/console/program/draft): validate a
program file with every error at its path and line, save it as a draft, simulate it over the
event log; an admin publishes a draft with notes and rolls back. Releases and saved drafts are
written to the audit log by the service, in the transaction of the change, as the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from accolade.errors import (
    AccoladeError,
    Conflict,
    InvalidInput,
    InvalidProgram,
    NotFound,
)
from accolade.program.lines import line_of
from accolade.service import programs, simulate
from accolade.service.programs import APPROVER_MAX, NOTES_MAX, ProgramDiff, VersionInfo
from accolade.web.console.web import PREFIX, Admin, ConsolePage, Signed, headers, render

router = APIRouter(prefix=f"{PREFIX}/program", include_in_schema=False)

SOURCE_MAX = 200_000  # characters of a program file typed or pasted into the editor
# What the page says after a change (?done=...): fixed sentences, so no text comes from the URL.
DONE = {
    "draft_saved": "The draft was saved. Publish it below when it is ready.",
    "published": "The version was published: it is active now.",
    "rolled_back": "The program was rolled back: the version chosen is active again.",
}
Version = Annotated[int | None, Form(ge=1, le=2**31 - 1)]
Notes = Annotated[str, Form(max_length=NOTES_MAX)]
Approver = Annotated[str, Form(max_length=APPROVER_MAX)]
Source = Annotated[str, Form(max_length=SOURCE_MAX)]


@dataclass(frozen=True)
class ProblemAt:
    """One validation error of the editor's text: its path, the line it is at, the message."""

    path: str
    line: int | None
    message: str


def problems(source: str, error: InvalidProgram) -> list[ProblemAt]:
    """Each error of ``error`` with the line of ``source`` its path points at."""
    return [ProblemAt(e.field, line_of(source, e.field), e.message) for e in error.errors]


def _in_console_words(error: AccoladeError) -> AccoladeError:
    """``error`` as the console says it: a version never simulated is simulated with the
    draft page's Simulate button here, not with the CLI command the service names."""
    if isinstance(error, programs.NotSimulated):
        return Conflict(
            f"{error.what} of '{error.program}' was never simulated, and publishing requires "
            "it: simulate it first with the Simulate button on the draft page",
            field=error.field,
        )
    return error


def _done(page: ConsolePage, where: str, what: str) -> Response:
    return RedirectResponse(
        f"{PREFIX}/program{where}?done={what}", status_code=303, headers=headers(page.ctx)
    )


def _no_program() -> NotFound:
    return NotFound("no program published yet: publish one first", field="program")


# -- the versions page --------------------------------------------------------------------


def _program_page(
    request: Request,
    page: ConsolePage,
    *,
    before: int | None = None,
    after: int | None = None,
    done: str | None = None,
    error: AccoladeError | None = None,
    status: int = 200,
) -> Response:
    infos: list[VersionInfo] = []
    compared: ProgramDiff | None = None
    if page.program is not None:
        infos = programs.versions(page.ctx.store, page.program)
        if after is not None and error is None:
            try:
                compared = programs.diff(page.ctx.store, page.program, before, after)
            except (NotFound, InvalidInput) as refused:
                error, status = refused, refused.status
    active = next((v.version for v in infos if v.active), None)
    released = [v for v in infos if v.released_at is not None]
    # the versions a rollback may choose, newest release first; the default is the one
    # active before the active one, as the service's
    earlier = sorted(
        (v for v in released if not v.active), key=lambda v: v.released_at or v.created_at
    )[::-1]
    return render(
        request,
        "program.html",
        {
            "versions": infos[::-1],  # newest first
            "active": active,
            "drafts": [v for v in infos[::-1] if v.released_at is None],
            "earlier": earlier,
            "before": compared.from_version if compared else (before or active),
            "after": after,
            "compared": compared,
            "done": DONE.get(done or ""),
            "error": error,
            "notes_max": NOTES_MAX,
            "approver_max": APPROVER_MAX,
        },
        page=page,
        status=status,
    )


@router.get("")
def program_page(
    request: Request,
    page: Signed,
    before: Annotated[int | None, Query(alias="from", ge=1, le=2**31 - 1)] = None,
    after: Annotated[int | None, Query(alias="to", ge=1, le=2**31 - 1)] = None,
    done: str | None = None,
) -> Response:
    return _program_page(request, page, before=before, after=after, done=done)


@router.post("/publish")
def publish(
    request: Request,
    page: Admin,
    version: Version = None,
    notes: Notes = "",
    approved_by: Approver = "",
) -> Response:
    """Make a stored draft the active version, with its notes; approved by the user unless
    someone else is named."""
    try:
        if page.program is None:
            raise _no_program()
        if version is None:
            raise InvalidInput("choose the draft to publish", field="version")
        programs.publish_version(
            page.ctx.store,
            page.program,
            version,
            page.ctx.clock,
            notes=notes,
            approved_by=approved_by.strip() or page.user.email,
            require_simulation=page.ctx.settings.publish_requires_simulation,
            actor=page.actor,
        )
    except (InvalidInput, NotFound, Conflict) as error:
        said = _in_console_words(error)
        return _program_page(request, page, error=said, status=said.status)
    return _done(page, "", "published")


@router.post("/rollback")
def rollback(
    request: Request,
    page: Admin,
    to: Version = None,
    notes: Notes = "",
    approved_by: Approver = "",
) -> Response:
    """Make an earlier version active again (the one active before, unless one is chosen)."""
    try:
        if page.program is None:
            raise _no_program()
        programs.rollback(
            page.ctx.store,
            page.program,
            to,
            page.ctx.clock,
            notes=notes,
            approved_by=approved_by.strip() or page.user.email,
            require_simulation=page.ctx.settings.publish_requires_simulation,
            actor=page.actor,
        )
    except (InvalidInput, NotFound, Conflict) as error:
        said = _in_console_words(error)
        return _program_page(request, page, error=said, status=said.status)
    return _done(page, "", "rolled_back")


# -- the draft editor ---------------------------------------------------------------------


def _draft_source(page: ConsolePage) -> tuple[str, VersionInfo | None]:
    """What the editor opens with: the newest draft newer than the active version, else the
    active version's file."""
    if page.program is None:
        return "", None
    infos = programs.versions(page.ctx.store, page.program)
    active = next((v.version for v in infos if v.active), 0)
    drafts = [v for v in infos if v.released_at is None and v.version > active]
    info, source = programs.version_source(
        page.ctx.store, page.program, drafts[-1].version if drafts else None
    )
    return source, info


def _draft_page(
    request: Request,
    page: ConsolePage,
    source: str,
    *,
    opened: VersionInfo | None = None,
    done: str | None = None,
    error: AccoladeError | None = None,
    valid: bool = False,
    changes: ProgramDiff | None = None,
    simulation: simulate.Simulation | None = None,
    status: int = 200,
) -> Response:
    found = problems(source, error) if isinstance(error, InvalidProgram) else []
    return render(
        request,
        "program_draft.html",
        {
            "source": source,
            "opened": opened,
            "done": DONE.get(done or ""),
            "error": None if found else error,
            "problems": found,
            "valid": valid,
            "changes": changes,
            "simulation": simulation,
            "source_max": SOURCE_MAX,
        },
        page=page,
        status=status,
    )


@router.get("/draft")
def draft_page(request: Request, page: Signed, done: str | None = None) -> Response:
    source, opened = _draft_source(page)
    return _draft_page(request, page, source, opened=opened, done=done)


@router.post("/draft/validate")
def validate_draft(request: Request, page: Signed, source: Source = "") -> Response:
    """Every error of the text at its path and line (422), or the rule changes from the active
    version; nothing is stored."""
    try:
        if page.program is None:
            raise _no_program()
        programs.validate(source)
        changes = programs.diff(page.ctx.store, page.program, None, draft=source)
    except (InvalidProgram, InvalidInput, NotFound) as error:
        return _draft_page(request, page, source, error=error, status=error.status)
    return _draft_page(request, page, source, valid=True, changes=changes)


@router.post("/draft/validate.json")
def validate_draft_json(page: Signed, source: Source = "") -> Response:
    """The editor's check as the user types (static/program.js): each error with its path and
    line, none when the text is a valid program file."""
    try:
        programs.validate(source)
    except InvalidProgram as error:
        found = [vars(p) for p in problems(source, error)]
        return JSONResponse({"valid": False, "problems": found}, headers=headers(page.ctx))
    return JSONResponse({"valid": True, "problems": []}, headers=headers(page.ctx))


@router.post("/draft/save")
def save_draft(request: Request, page: Admin, source: Source = "") -> Response:
    """Store the text as a draft version (not active); nothing is stored when it is invalid."""
    try:
        if page.program is None:
            raise _no_program()
        programs.add_draft(page.ctx.store, page.program, source, page.ctx.clock, actor=page.actor)
    except (InvalidProgram, InvalidInput, NotFound) as error:
        return _draft_page(request, page, source, error=error, status=error.status)
    return _done(page, "", "draft_saved")


@router.post("/draft/simulate")
def simulate_draft(request: Request, page: Admin, source: Source = "") -> Response:
    """The event log evaluated under the text, compared with what was given; nothing live is
    written (the simulation's record lets the draft be published when that requires it)."""
    try:
        if page.program is None:
            raise _no_program()
        result = simulate.simulate(page.ctx.store, page.program, source, clock=page.ctx.clock)
    except (InvalidProgram, InvalidInput, NotFound) as error:
        return _draft_page(request, page, source, error=error, status=error.status)
    return _draft_page(request, page, source, valid=True, simulation=result)
