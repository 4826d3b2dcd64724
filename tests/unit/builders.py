"""Builders for the unit tests: programs from YAML or dicts, events, and runs through the engine."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from accolade.engine.effects import Entry, Evaluation
from accolade.engine.evaluate import evaluate
from accolade.engine.events import Event, parse_event
from accolade.engine.reconcile import reconcile, totals_of
from accolade.engine.state import MemberState
from accolade.program.compile import compile_program
from accolade.program.compiled import CompiledProgram
from accolade.program.loader import load_program

DEMO_PROGRAM = Path(__file__).resolve().parents[2] / "examples" / "partner-program.yaml"

# A Monday, 09:00 in New York (EST), 14:00 UTC.
T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

_ids = itertools.count(1)


def program(source: str | dict[str, Any], version: int = 1) -> CompiledProgram:
    """A compiled program from YAML text or from a dict (``key`` and ``name`` filled in)."""
    if isinstance(source, dict):
        source = yaml.safe_dump({"key": "test", "name": "Test program", **source}, sort_keys=False)
    return compile_program(load_program(textwrap.dedent(source)), version=version)


def one_action(version: int = 1, timezone: str = "UTC", **action: Any) -> CompiledProgram:
    """A program with a single action keyed ``act`` on event type ``act``."""
    return program({"timezone": timezone, "actions": [{"key": "act", **action}]}, version)


@lru_cache(maxsize=1)
def _demo_text() -> str:
    return DEMO_PROGRAM.read_text(encoding="utf-8")


def demo() -> CompiledProgram:
    """The demo partner program from examples/ (America/New_York, Bronze..Platinum)."""
    return program(_demo_text())


def event(
    type: str = "act",
    at: datetime | str = T0,
    *,
    id: str | None = None,
    member: str = "m1",
    properties: dict[str, Any] | None = None,
    attributes: dict[str, Any] | None = None,
    **fields: Any,
) -> Event:
    """An event as a sender posts it, validated by ``parse_event``."""
    data: dict[str, Any] = {
        "id": id or f"e{next(_ids)}",
        "type": type,
        "member": member,
        "occurred_at": at.isoformat() if isinstance(at, datetime) else at,
        **fields,
    }
    if properties is not None:
        data["properties"] = properties
    if attributes is not None:
        data["attributes"] = attributes
    return parse_event(data)


def member(name: str = "m1", **fields: Any) -> MemberState:
    return MemberState(name, **fields)


@dataclass
class Run:
    """Every evaluation of a sequence of events for one member, and where it left them."""

    state: MemberState
    evaluations: list[Evaluation]

    @property
    def entries(self) -> list[Entry]:
        return [e for ev in self.evaluations for e in ev.entries]

    @property
    def last(self) -> Evaluation:
        return self.evaluations[-1]


def run(prog: CompiledProgram, events: Iterable[Event], state: MemberState | None = None) -> Run:
    """Evaluates ``events`` in order, each on the state the previous one left."""
    current = state or member()
    evaluations = []
    for e in events:
        evaluation = evaluate(prog, current, e)
        evaluations.append(evaluation)
        current = evaluation.state
    return Run(current, evaluations)


def reverse(
    prog: CompiledProgram, events: Sequence[Event], event_id: str, reason: str = "lead disqualified"
) -> tuple[Run, Evaluation]:
    """The run of ``events`` and the reconciliation that reverses ``event_id`` afterwards."""
    before = run(prog, events)
    history = [(e, prog.version) for e in events if e.id != event_id]
    after = reconcile(
        {prog.version: prog},
        history,
        before.state,
        totals_of(before.entries),
        event_id,
        reason,
        prog.version,
    )
    return before, after


def seen(entries: Iterable[Entry]) -> list[tuple[str, str, int]]:
    """Entries as a member sees them in the ledger: (kind, rule, points)."""
    return [(e.kind.value, e.rule, e.points) for e in entries]


def of_kind(entries: Iterable[Entry], kind: str) -> list[Entry]:
    return [e for e in entries if e.kind.value == kind]


def every(start: datetime, step: timedelta, count: int) -> list[datetime]:
    return [start + i * step for i in range(count)]
