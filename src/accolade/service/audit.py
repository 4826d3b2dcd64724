"""The audit log: who changed what, when, and the thing before and after; written in the
transaction of the change it records, so a change is never stored without its row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accolade.errors import InvalidInput
from accolade.service import programs  # a module: programs records its releases here
from accolade.store.unit_of_work import Store, UnitOfWork

CLI_ACTOR = "cli"  # a change made with the `accolade` command on the server
MAX_PAGE = 500


def api_key_actor(key_id: str) -> str:
    """The actor of a change made with an API key."""
    return f"api key {key_id}"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str  # a console user's email, 'api key <id>' or 'cli'
    action: str  # e.g. console_user.created
    program: str | None  # the program's key; None for a change to no one program
    target: str
    # Any: the JSON of whatever the action changed (a user, a version, a redemption)
    before: Any
    after: Any


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]  # newest first
    next_before: int | None  # pass as ``before`` for the next (older) page; None: no more


def record(
    uow: UnitOfWork,
    actor: str,
    action: str,
    program_id: int | None,
    target: str,
    before: Any,  # JSON-able: the thing as it was (None: it did not exist)
    after: Any,  # JSON-able: the thing as it is now (None: it is gone)
    *,
    at: datetime,
) -> int:
    """One audit row, in the caller's transaction; its id."""
    return uow.console.add_audit(at, actor, action, program_id, target, before, after)


def list_audit(
    store: Store,
    program_key: str | None = None,
    *,
    before: int | None = None,
    limit: int = 50,
) -> AuditPage:
    """A page of the audit log, newest first; ``program_key``: that program's rows only."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"must be between 1 and {MAX_PAGE}", field="limit")
    with store.read() as uow:
        program_id = programs.program_row(uow, program_key).id if program_key is not None else None
        rows = uow.console.audit_page(program_id, before, limit + 1)
    entries = [
        AuditEntry(r.id, r.at, r.actor, r.action, r.program_key, r.target, r.before, r.after)
        for r in rows[:limit]
    ]
    return AuditPage(entries, entries[-1].id if len(rows) > limit else None)
