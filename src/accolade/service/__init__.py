"""Use cases: the only place where engine and store meet. Edges call these, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

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
