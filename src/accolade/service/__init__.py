"""Use cases: the only place where engine and store meet. Edges call these, nothing else."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from accolade.errors import InvalidInput
from accolade.store.unit_of_work import WriteConflict

Clock = Callable[[], datetime]
T = TypeVar("T")


def system_clock() -> datetime:
    return datetime.now(UTC)


def once_more_on_conflict(run: Callable[[], T]) -> T:
    """``run()``, and once again if a concurrent writer got in the way (a deadlock PostgreSQL
    broke, a unique key taken): the second time it sees what the other wrote."""
    try:
        return run()
    except WriteConflict:
        return run()


def public_id(given: str | None, field: str, prefix: str, longest: int) -> str:
    """The caller's id for something it creates (an order id, a CRM lead's id), or a new one
    ``<prefix>_<20 hex digits>``; without ':', which the ids of the events built from it use."""
    if given is None:
        return f"{prefix}_{secrets.token_hex(10)}"
    given = given.strip()
    if not given:
        raise InvalidInput("must not be empty", field=field)
    if len(given) > longest or ":" in given:
        raise InvalidInput(f"must be at most {longest} characters, without ':'", field=field)
    return given


def check_page(status: str | None, statuses: tuple[str, ...], limit: int) -> None:
    """The arguments of a page of newest-first rows filtered by status."""
    if status is not None and status not in statuses:
        raise InvalidInput(
            f"unknown status '{status}'; one of {', '.join(statuses)}", field="status"
        )
    if not 1 <= limit <= 500:
        raise InvalidInput("must be between 1 and 500", field="limit")
