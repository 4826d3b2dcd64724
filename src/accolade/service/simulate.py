"""What-if: evaluate the event log under a draft program, in memory, and compare what the draft
would have given with what the stored state says was given.

The walk follows replay's (service.replay) through the log, in chunks, with a fresh state per
member and nothing else kept: memory grows with the members, not with the log. A reversed event
is skipped (a reversal leaves the state as if the event never arrived); a redemption, a refund
or an expiry moves the simulated balance by its logged points, as replay does. Nothing live is
written: the one write is the record that this draft was simulated, in its own transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from accolade.engine.effects import Entry
from accolade.engine.evaluate import evaluate
from accolade.engine.events import Event, parse_event
from accolade.engine.leaderboards import ALL_TIME, Total, contributions
from accolade.engine.state import MemberState
from accolade.engine.tiers import entry_tier
from accolade.errors import InvalidEvent, InvalidInput, NotFound
from accolade.program.compile import compile_program
from accolade.program.compiled import CompiledProgram
from accolade.program.loader import load_program, program_hash
from accolade.service import Clock, system_clock
from accolade.service.programs import active
from accolade.service.simulate_diff import (
    Figure,
    Head,
    Rejected,
    Simulated,
    Simulation,
    compare,
)
from accolade.store.unit_of_work import Store, UnitOfWork

__all__ = ["Figure", "Simulation", "moment", "simulate"]

MEMBERS_ASKED = 100  # members compared one by one in one simulation


def simulate(
    store: Store,
    program_key: str,
    source: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    members: Sequence[str] = (),
    chunk_size: int = 5000,
    clock: Clock = system_clock,
    on_progress: Callable[[int, int], None] | None = None,
) -> Simulation:
    """Evaluate every logged event of ``program_key`` under the draft ``source`` and compare.

    ``since``/``until`` ([since, until), by the events' own time) choose the events whose
    points count in the figures per rule; every event still builds the members' states, so
    tiers, badges, balances, boards and challenges compare the end of the whole log.
    ``members``: external ids to compare one by one. Raises InvalidProgram, InvalidInput
    (``key``, ``from``, ``to``) or NotFound (``member``) before anything is read or written.
    """
    draft_program = load_program(source)
    if draft_program.key != program_key:
        raise InvalidInput(
            f"this file is program '{draft_program.key}', not '{program_key}'", field="key"
        )
    since, until = _range(since, until)
    digest = program_hash(draft_program)
    started = time.perf_counter()
    with store.read() as uow:
        program = active(uow, program_key)
        asked = _asked_members(uow, program.id, members)
        draft = compile_program(draft_program, _draft_version(uow, program.id, digest), digest)
        walk = _Walk(draft, since, until)
        total = uow.log.count_events(program.id)
        after, done = 0, 0
        while rows := uow.log.log_after(program.id, after, chunk_size):
            walk.add(uow, rows)
            after = rows[-1].id
            done += len(rows)
            if on_progress is not None:
                on_progress(done, total)
        seconds = time.perf_counter() - started
        head = Head(program_key, program.compiled.version, digest, since, until, seconds)
        result = compare(uow, program.id, program.compiled, walk.result(), asked, head)
    _record(store, program.id, digest, result, clock())
    return result


def moment(text: str, field: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 time (UTC when it names no offset), as the CLI's
    --from and --to take them; InvalidInput naming ``field`` otherwise."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        return _utc(datetime.fromisoformat(value), field)
    except ValueError:
        raise InvalidInput(
            f"'{text}' is not a date (2026-03-01) or an ISO 8601 time", field=field
        ) from None


def _utc(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput("is out of range", field=field) from None


def _range(
    since: datetime | None, until: datetime | None
) -> tuple[datetime | None, datetime | None]:
    since = None if since is None else _utc(since, "from")
    until = None if until is None else _utc(until, "to")
    if since is not None and until is not None and until <= since:
        raise InvalidInput(
            f"must be after from ({since.isoformat()}): the range is [from, to)", field="to"
        )
    return since, until


def _asked_members(
    uow: UnitOfWork, program_id: int, members: Sequence[str]
) -> list[tuple[int, str]]:
    """(id, external id) of each member asked for, in the order asked; NotFound otherwise."""
    if len(members) > MEMBERS_ASKED:
        raise InvalidInput(f"at most {MEMBERS_ASKED} members at a time", field="member")
    found: list[tuple[int, str]] = []
    for external_id in dict.fromkeys(members):
        row = uow.members.member(program_id, external_id)
        if row is None:
            raise NotFound(f"no member '{external_id}'", field="member")
        found.append((int(row.id), external_id))
    return found


def _draft_version(uow: UnitOfWork, program_id: int, digest: str) -> int:
    """The number the draft has (identical content) or would get if published: bonus draws
    are seeded by it, so a draft identical to a stored version draws what that version drew."""
    existing = uow.programs.version_by_hash(program_id, digest)
    if existing is not None:
        return int(existing.version)
    return max((int(v.version) for v in uow.programs.versions(program_id)), default=0) + 1


class _Walk:
    """The simulated state of every member, and the figures of the events counted."""

    def __init__(self, draft: CompiledProgram, since: datetime | None, until: datetime | None):
        self.draft = draft
        self.since, self.until = since, until
        self.entry_tier = entry_tier(draft)
        # Only the all-time boards are compared: contributions() sees no other board.
        all_time = {k: b for k, b in draft.leaderboards.items() if b.window == ALL_TIME}
        self.boards_program = replace(draft, leaderboards=all_time) if all_time else None
        self.states: dict[int, MemberState] = {}  # by member row id
        self.points: dict[str, int] = {}
        self.scores: dict[tuple[str, str], Total] = {}  # (board, subject)
        self.events = self.counted = self.reversed = 0
        self.rejected: dict[str, tuple[int, str]] = {}  # event type -> (events, first reason)

    def add(self, uow: UnitOfWork, rows: Sequence[Any]) -> None:
        states, draft = self.states, self.draft
        for row in rows:
            kind = row.kind
            if kind == "event":
                event = parse_event(row.body)
                state = states.get(row.member_id)
                if state is None:
                    state = states[row.member_id] = MemberState(event.member)
                if row.reversed_by is not None:
                    self.reversed += 1
                    if state.tier is None:  # as a reversal leaves a member it leaves no event
                        state.tier = self.entry_tier
                    continue
                try:
                    evaluation = evaluate(draft, state, event)
                except InvalidEvent as exc:
                    seen, reason = self.rejected.get(event.type, (0, exc.message))
                    self.rejected[event.type] = (seen + 1, reason)
                    continue
                self.events += 1
                states[row.member_id] = evaluation.state
                if self.boards_program is not None:
                    self._score(event, evaluation.entries, evaluation.state)
                if self._counts(event.occurred_at):
                    self.counted += 1
                    self._issue(evaluation.entries)
            elif kind not in ("reversal", "warning"):  # a redemption, a refund, an expiry
                state = states.get(row.member_id)
                if state is None:  # spending before any event: only a hand-made log does this
                    external_id = uow.members.member_external_id(row.member_id)
                    state = states[row.member_id] = MemberState(external_id)
                state.balance += int(json.loads(row.body)["points"])

    def _counts(self, at: datetime) -> bool:
        return (self.since is None or at >= self.since) and (self.until is None or at < self.until)

    def _issue(self, entries: Sequence[Entry]) -> None:
        points = self.points
        for e in entries:
            if e.points:
                points[e.rule] = points.get(e.rule, 0) + e.points

    def _score(self, event: Event, entries: Sequence[Entry], state: MemberState) -> None:
        assert self.boards_program is not None
        scores = self.scores
        for c in contributions(self.boards_program, event, entries, state):
            key = (c.board, c.subject)
            before = scores.get(key)
            if before is None:
                scores[key] = Total(c.delta, c.ts)
            else:
                scores[key] = Total(before.delta + c.delta, max(before.ts, c.ts))

    def result(self) -> Simulated:
        rejected = [Rejected(t, n, why) for t, (n, why) in sorted(self.rejected.items())]
        return Simulated(
            self.draft,
            self.states,
            self.points,
            self.scores,
            self.events,
            self.counted,
            self.reversed,
            rejected,
        )


def _record(store: Store, program_id: int, digest: str, result: Simulation, at: datetime) -> None:
    """Remember that this draft was simulated (publishing may require it), with a summary."""
    summary = {
        "events": result.events,
        "members": result.members,
        "from": result.since.isoformat() if result.since else None,
        "to": result.until.isoformat() if result.until else None,
        "issued": [result.issued.actual, result.issued.simulated],
        "liability": [result.liability.actual, result.liability.simulated],
        "tier_moves": result.tier_moves_total,
    }
    with store.transaction() as uow:
        uow.programs.record_simulation(
            program_id, digest, at, json.dumps(summary, separators=(",", ":"))
        )
