"""Ingest events: validate, de-duplicate, evaluate in memory, write each chunk in one transaction.

Per chunk: member states are loaded (and locked) in bulk, every event is evaluated by the pure
engine, and the log rows, ledger entries, badges and member states are written with a handful
of batched statements. A rejected event stores nothing and does not block the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accolade.engine.effects import Evaluation, Status, result_of
from accolade.engine.evaluate import evaluate
from accolade.engine.events import EVENT_SCHEMA_VERSION, Event, body_hash, parse_event
from accolade.errors import AccoladeError, Conflict
from accolade.service import Clock, system_clock
from accolade.service.programs import ActiveProgram, active
from accolade.store.repository import (
    LockedMember,
    LoggedEvent,
    MemberCache,
    NewEntry,
    NewEvent,
    Repository,
)
from accolade.store.unit_of_work import Store, WriteConflict

Record = tuple[int, object]  # (line or position, a decoded event or the error decoding it)


class Outcome:
    """What became of one record; ``result`` is what the sender is told (built on first use:
    a bulk ingest mostly counts)."""

    __slots__ = ("_evaluation", "_result", "error", "event_id", "points", "position", "status")

    def __init__(
        self,
        position: int,
        event_id: str | None,
        status: Status,
        result: dict[str, Any] | None = None,
        error: AccoladeError | None = None,
        evaluation: Evaluation | None = None,
    ) -> None:
        self.position = position
        self.event_id = event_id
        self.status = status
        self.error = error
        self.points = evaluation.points if evaluation is not None else 0
        self._result = result
        self._evaluation = evaluation

    @property
    def result(self) -> dict[str, Any]:
        if self._result is None:
            assert self._evaluation is not None
            self._result = self._evaluation.result()
        return self._result

    def __repr__(self) -> str:
        return f"Outcome({self.position}, {self.event_id!r}, {self.status.value}, {self.result!r})"


@dataclass
class IngestReport:
    accepted: int = 0
    duplicate: int = 0
    limited: int = 0
    rejected: int = 0
    points: int = 0
    events: int = 0

    def add(self, outcome: Outcome) -> None:
        self.events += 1
        if outcome.status is Status.ACCEPTED:
            self.accepted += 1
            self.points += outcome.points
        elif outcome.status is Status.DUPLICATE:
            self.duplicate += 1
        elif outcome.status is Status.LIMITED:
            self.limited += 1
        else:
            self.rejected += 1


def ingest(
    store: Store,
    program_key: str,
    records: Iterable[Record],
    *,
    chunk_size: int = 2000,
    clock: Clock = system_clock,
    on_chunk: Callable[[Sequence[Outcome]], None] | None = None,
) -> IngestReport:
    """Ingest a stream chunk by chunk (one transaction each); memory stays flat in its length."""
    report = IngestReport()
    chunk: list[Record] = []
    # Member states this run wrote, reused by later chunks while their revision is unchanged:
    # bounded by the number of members, not by the length of the stream.
    cache: MemberCache = {}

    def flush() -> None:
        outcomes = ingest_batch(store, program_key, chunk, clock=clock, cache=cache)
        for outcome in outcomes:
            report.add(outcome)
        if on_chunk is not None:
            on_chunk(outcomes)
        chunk.clear()

    for record in records:
        chunk.append(record)
        if len(chunk) >= chunk_size:
            flush()
    if chunk:
        flush()
    return report


def ingest_batch(
    store: Store,
    program_key: str,
    records: Sequence[Record],
    *,
    clock: Clock = system_clock,
    cache: MemberCache | None = None,
) -> list[Outcome]:
    """One batch, one transaction; an outcome per record, in order."""
    for _ in range(_ATTEMPTS - 1):
        try:
            return _ingest_once(store, program_key, records, clock, cache)
        except WriteConflict:
            continue  # a concurrent writer stored one of these ids first; now it is a duplicate
    return _ingest_once(store, program_key, records, clock, cache)


# Member row locks serialise writers of one member; the same event id sent at once for two
# members meets only at the unique key, and the loser runs its batch again.
_ATTEMPTS = 5


def _ingest_once(
    store: Store,
    program_key: str,
    records: Sequence[Record],
    clock: Clock,
    cache: MemberCache | None,
) -> list[Outcome]:
    saved: list[LockedMember] = []
    with store.transaction() as repo:
        program = active(repo, program_key)
        outcomes = apply_events(repo, program, records, clock(), cache, saved)
    if cache is not None:  # only what committed: a rolled-back state must never be reused
        cache.update((m.id, (m.revision + 1, m.state)) for m in saved)
    return outcomes


@dataclass(slots=True)
class _Accepted:
    position: int
    event: Event
    canonical: str
    digest: str
    member: LockedMember
    evaluation: Evaluation


def apply_events(
    repo: Repository,
    program: ActiveProgram,
    records: Sequence[Record],
    now: datetime,
    cache: MemberCache | None = None,
    saved: list[LockedMember] | None = None,
) -> list[Outcome]:
    """Evaluate and store ``records`` in the caller's transaction; members whose state was
    written are appended to ``saved`` (their stored revision is now ``revision + 1``)."""
    outcomes: list[Outcome | None] = [None] * len(records)
    valid: list[tuple[int, Event, str, str]] = []
    for i, (position, raw) in enumerate(records):
        try:
            if isinstance(raw, AccoladeError):
                raise raw
            event = parse_event(raw)
        except AccoladeError as exc:
            outcomes[i] = _rejected(position, raw, exc)
            continue
        canonical = event.canonical()
        valid.append((i, event, canonical, body_hash(canonical)))

    member_ids = list(dict.fromkeys(e.member for _, e, _, _ in valid))
    locked = repo.lock_members(program.id, member_ids, cache)
    missing = [m for m in member_ids if m not in locked]
    if missing:
        # New members are inserted in one global order, so concurrent batches never deadlock.
        repo.ensure_members(program.id, sorted(missing))
        locked.update(repo.lock_members(program.id, missing))
    logged = repo.logged_events(program.id, "event", list({e.id for _, e, _, _ in valid}))

    compiled = program.compiled
    seen: dict[str, tuple[str, Outcome]] = {}  # event id -> (digest, first outcome) in this chunk
    firsts = _first_results(repo, logged)
    accepted: list[_Accepted] = []
    for i, event, canonical, digest in valid:
        position = records[i][0]
        first = logged.get(event.id)
        if first is not None:
            outcomes[i] = _repeat(position, event.id, digest, first.body_hash, firsts[first.id])
            continue
        if event.id in seen:
            first_digest, first_outcome = seen[event.id]
            outcomes[i] = _repeat(position, event.id, digest, first_digest, first_outcome.result)
            continue
        member = locked[event.member]
        try:
            evaluation = evaluate(compiled, member.state, event)
        except AccoladeError as exc:
            outcomes[i] = _rejected(position, {"id": event.id}, exc)
            continue
        member.state = evaluation.state
        outcome = Outcome(position, event.id, evaluation.status, evaluation=evaluation)
        seen[event.id] = (digest, outcome)
        outcomes[i] = outcome
        accepted.append(_Accepted(position, event, canonical, digest, member, evaluation))

    _write(repo, program, accepted, now)
    stored = {a.member.id for a in accepted}
    changed = [m for m in locked.values() if m.id in stored]
    repo.save_members(((m.id, m.state) for m in changed), now)
    if saved is not None:
        saved.extend(changed)
    repo.delete_members_without_state(
        [m.id for m in locked.values() if m.fresh and m.id not in stored]
    )
    return [o for o in outcomes if o is not None]


def _write(
    repo: Repository,
    program: ActiveProgram,
    accepted: list[_Accepted],
    now: datetime,
) -> None:
    version = program.compiled.version
    rows = [
        NewEvent(
            kind="event",
            event_id=a.event.id,
            type=a.event.type,
            member_id=a.member.id,
            occurred_at=a.event.occurred_at,
            program_version=version,
            schema_version=EVENT_SCHEMA_VERSION,
            body_hash=a.digest,
            body=a.canonical,
            status=a.evaluation.status.value,
            notes=json.dumps(a.evaluation.notes) if a.evaluation.notes else None,
        )
        for a in accepted
    ]
    ids = repo.insert_events(program.id, rows, now)
    entries = [
        NewEntry(a.member.id, pk, pk, a.event.occurred_at, entry)
        for a, pk in zip(accepted, ids, strict=True)
        for entry in a.evaluation.entries
    ]
    repo.insert_entries(program.id, entries, now)
    repo.apply_badges(program.id, entries)


def _first_results(repo: Repository, logged: dict[str, LoggedEvent]) -> dict[int, dict[str, Any]]:
    """Results of already-logged events, rebuilt from the entries they caused."""
    entries = repo.entries_caused([row.id for row in logged.values()])
    return {row.id: logged_result(row, entries[row.id]) for row in logged.values()}


def logged_result(row: LoggedEvent, entries: list[dict[str, object]]) -> dict[str, Any]:
    return result_of(row.status, entries, json.loads(row.notes) if row.notes else ())


def _repeat(
    position: int, event_id: str, digest: str, first_digest: str, first_result: dict[str, Any]
) -> Outcome:
    if first_digest != digest:
        error = Conflict(
            f"event '{event_id}' was already received with a different body", field="id"
        )
        return _rejected(position, {"id": event_id}, error)
    return Outcome(
        position, event_id, Status.DUPLICATE, {"status": "duplicate", "first": first_result}
    )


def _rejected(position: int, raw: object, error: AccoladeError) -> Outcome:
    event_id = (
        raw.get("id")
        if isinstance(raw, dict)
        else _id_in(raw)
        if isinstance(raw, str | bytes)
        else None
    )
    body = {"code": error.code, "field": error.field, "message": error.message}
    return Outcome(
        position,
        event_id if isinstance(event_id, str) else None,
        Status.REJECTED,
        {"status": "rejected", "error": body},
        error,
    )


def _id_in(text: str | bytes) -> object:
    try:
        decoded = json.loads(text)
    except ValueError:
        return None
    return decoded.get("id") if isinstance(decoded, dict) else None
