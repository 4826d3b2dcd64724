"""The console's access page: its users (an admin creates them, changes their role, disables
and enables them) and the chosen program's API keys (an admin creates one, shown once, and
revokes them). Every change is written to the audit log by the service, as its user.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from accolade.errors import AccoladeError, Conflict, Forbidden, InvalidInput, NotFound
from accolade.service import console_users, keys
from accolade.service.console_users import ROLE_RIGHTS, ROLES
from accolade.service.keys import SCOPES, CreatedKey
from accolade.web.console.web import PREFIX, Admin, ConsolePage, Signed, headers, render

router = APIRouter(prefix=f"{PREFIX}/access", include_in_schema=False)

# What the page says after a change (?done=...): fixed sentences, so no text comes from the URL.
DONE = {
    "user_created": "The user was created.",
    "role_changed": "The role was changed.",
    "disabled": "The user was disabled: their sessions have ended.",
    "enabled": "The user was enabled.",
    "key_revoked": "The key was revoked.",
}


def _access(
    request: Request,
    page: ConsolePage,
    *,
    done: str | None = None,
    error: AccoladeError | None = None,
    created: CreatedKey | None = None,
    status: int = 200,
) -> Response:
    users = console_users.list_users(page.ctx.store)
    program_keys = keys.list_keys(page.ctx.store, page.program) if page.program else []
    return render(
        request,
        "access.html",
        {
            "users": users,
            "keys": program_keys,
            "roles": ROLES,
            "rights": ROLE_RIGHTS,
            "scopes": SCOPES,
            "done": DONE.get(done or ""),
            "error": error,
            "created": created,
        },
        page=page,
        status=status,
    )


def _refused(request: Request, page: ConsolePage, error: AccoladeError) -> Response:
    """The page again, the error beside the form it came from, with its status."""
    return _access(request, page, error=error, status=error.status)


def _done(page: ConsolePage, what: str) -> Response:
    return RedirectResponse(
        f"{PREFIX}/access?done={what}", status_code=303, headers=headers(page.ctx)
    )


@router.get("")
def access_page(request: Request, page: Signed, done: str | None = None) -> Response:
    return _access(request, page, done=done)


@router.post("/users")
async def create_user(
    request: Request,
    page: Admin,
    email: Annotated[str, Form(max_length=300)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
    name: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    try:  # argon2 hashing takes a while by design: off the event loop
        await run_in_threadpool(
            console_users.create_user,
            page.ctx.store,
            email,
            role,
            password,
            name,
            actor=page.actor,
            clock=page.ctx.clock,
        )
    except (InvalidInput, Conflict) as error:
        return _refused(request, page, error)
    return _done(page, "user_created")


@router.post("/users/role")
def change_role(
    request: Request,
    page: Admin,
    email: Annotated[str, Form(max_length=300)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        console_users.change_role(
            page.ctx.store, email, role, actor=page.actor, clock=page.ctx.clock
        )
    except (InvalidInput, NotFound, Forbidden) as error:
        return _refused(request, page, error)
    page.ctx.console_sessions.clear()  # their open sessions see the new role at once
    return _done(page, "role_changed")


@router.post("/users/disable")
def disable_user(
    request: Request, page: Admin, email: Annotated[str, Form(max_length=300)] = ""
) -> Response:
    return _set_disabled(request, page, email, disabled=True)


@router.post("/users/enable")
def enable_user(
    request: Request, page: Admin, email: Annotated[str, Form(max_length=300)] = ""
) -> Response:
    return _set_disabled(request, page, email, disabled=False)


def _set_disabled(request: Request, page: ConsolePage, email: str, *, disabled: bool) -> Response:
    try:
        console_users.set_disabled(
            page.ctx.store, email, disabled, actor=page.actor, clock=page.ctx.clock
        )
    except (InvalidInput, NotFound, Forbidden) as error:
        return _refused(request, page, error)
    page.ctx.console_sessions.clear()  # a disabled user's sessions end on this worker at once
    return _done(page, "disabled" if disabled else "enabled")


@router.post("/keys")
async def create_key(request: Request, page: Admin) -> Response:
    """A new key of the chosen program; its secret is on this answer only, never again."""
    form = await request.form()
    chosen = " ".join(str(s) for s in form.getlist("scope"))
    name = str(form.get("name") or "")
    try:
        if page.program is None:
            raise NotFound("no program published yet: publish one first", field="program")
        created = keys.create_key(
            page.ctx.store,
            page.program,
            keys.parse_scopes(chosen),
            name,
            page.ctx.clock,
            actor=page.actor,
        )
    except (InvalidInput, NotFound) as error:
        return _refused(request, page, error)
    return _access(request, page, created=created, status=201)


@router.post("/keys/revoke")
def revoke_key(
    request: Request, page: Admin, key_id: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    try:
        keys.revoke_key(
            page.ctx.store,
            key_id,
            page.ctx.clock,
            actor=page.actor,
            program_key=page.program,
        )
    except (InvalidInput, NotFound) as error:
        return _refused(request, page, error)
    return _done(page, "key_revoked")
