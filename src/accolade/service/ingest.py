"""Ingest events: validate, de-duplicate, evaluate in memory, write each chunk in one transaction.

Per chunk: member states are loaded (and locked) in bulk, every event is evaluated by the pure
engine, and the log rows, ledger entries, badges and member states are written with a handful
of batched statements. A rejected event stores nothing and does not block the others.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple

from accolade.engine.effects import Entry, Status, entries_result, result_of
from accolade.engine.evaluate import evaluate
from accolade.engine.events import Event, body_hash, parse_event, text_problem
from accolade.engine.facets import facet_names
from accolade.engine.state import compact_json
from accolade.errors import AccoladeError, Conflict, InvalidEvent, InvalidInput
from accolade.program.compiled import RESERVED_EVENT_TYPES, CompiledProgram
from accolade.service import Clock, system_clock
from accolade.service.assessments import Assessed, assessed, record
from accolade.service.board_updates import BoardUpdates
from accolade.service.notify import Message, notices
from accolade.service.programs import ActiveProgram, active, compiled_version, kept_firsts
from accolade.store.repositories.log import EvaluatedEvent, LoggedEvent
from accolade.store.repositories.members import LockedMember, MemberCache
from accolade.store.unit_of_work import Store, UnitOfWork, WriteConflict

Record = tuple[int, object]  # (line or position, a decoded event or the error decoding it)


class Outcome:
    """What became of one record; ``result`` is what the sender is told (built on first use:
    a bulk ingest mostly counts). It keeps the entries, not the member's next state, so a
    chunk of outcomes stays small."""

    __slots__ = (
        "_entries",
        "_notes",
        "_result",
        "error",
        "event_id",
        "position",
        "status",
    )

    def __init__(
        self,
        position: int,
        event_id: str | None,
        status: Status,
        result: dict[str, Any] | None = None,
        error: AccoladeError | None = None,
        entries: tuple[Entry, ...] = (),
        notes: tuple[str, ...] = (),
    ) -> None:
        self.position = position
        self.event_id = event_id
        self.status = status
        self.error = error
        self._result = result
        self._entries = entries
        self._notes = notes

    @property
    def points(self) -> int:
        return sum([e.points for e in self._entries])

    @property
    def result(self) -> dict[str, Any]:
        if self._result is None:
            self._result = entries_result(self.status, self._entries, self._notes)
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

    def add_all(self, outcomes: Sequence[Outcome]) -> None:
        counts = Counter([o.status for o in outcomes])
        self.events += len(outcomes)
        self.accepted += counts[Status.ACCEPTED]
        self.duplicate += counts[Status.DUPLICATE]
        self.limited += counts[Status.LIMITED]
        self.rejected += counts[Status.REJECTED]
        self.points += sum([o.points for o in outcomes if o.status is Status.ACCEPTED])


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
    # Member states this run wrote, reused by later chunks while their revision is unchanged:
    # bounded by the number of members, not by the length of the stream.
    cache: MemberCache = {}
    stream = iter(records)
    # Decoding chunk N+1 on a second thread while chunk N is written was measured and dropped:
    # the GIL hands over at every SQLite row step, so it ran 4% slower on SQLite and gained
    # nothing on PostgreSQL at 25k-event chunks.
    while chunk := list(islice(stream, chunk_size)):
        outcomes = _apply_with_retries(store, program_key, parse_records(chunk), clock, cache)
        report.add_all(outcomes)
        if on_chunk is not None:
            on_chunk(outcomes)
    return report


def ingest_batch(
    store: Store,
    program_key: str,
    records: Sequence[Record],
    *,
    clock: Clock = system_clock,
    cache: MemberCache | None = None,
    reserved: bool = False,
) -> list[Outcome]:
    """One batch, one transaction; an outcome per record, in order. ``reserved``: the batch
    comes from Accolade itself and may hold its own event types (challenge.won)."""
    parsed = parse_records(records, reserved=reserved)
    return _apply_with_retries(store, program_key, parsed, clock, cache)


class Parsed(NamedTuple):
    """A chunk of records decoded and validated, before any database work."""

    records: Sequence[Record]
    valid: list[tuple[int, Event, str, str]]  # (index in records, event, canonical body, hash)
    rejected: list[tuple[int, Outcome]]  # (index in records, its outcome)


def parse_records(records: Sequence[Record], *, reserved: bool = False) -> Parsed:
    """Decode and validate a chunk; pure, so it can run ahead of the writer. Event types
    Accolade sends itself are refused unless ``reserved``."""
    valid: list[tuple[int, Event, str, str]] = []
    rejected: list[tuple[int, Outcome]] = []
    for i, (position, raw) in enumerate(records):
        try:
            if isinstance(raw, AccoladeError):
                raise raw
            event = parse_event(raw)
            if not reserved and event.type in RESERVED_EVENT_TYPES:
                raise InvalidEvent(
                    f"'{event.type}' events are sent by Accolade itself (when a challenge or "
                    "a leaderboard window closes, or a referral moves), not by the host",
                    field="type",
                )
        except AccoladeError as exc:
            rejected.append((i, _rejected(position, raw, exc)))
            continue
        canonical = event.canonical()
        valid.append((i, event, canonical, body_hash(canonical)))
    return Parsed(records, valid, rejected)


def _apply_with_retries(
    store: Store,
    program_key: str,
    parsed: Parsed,
    clock: Clock,
    cache: MemberCache | None,
) -> list[Outcome]:
    for _ in range(_ATTEMPTS - 1):
        try:
            return _ingest_once(store, program_key, parsed, clock, cache)
        except WriteConflict:
            continue  # a concurrent writer stored one of these ids first; now it is a duplicate
    return _ingest_once(store, program_key, parsed, clock, cache)


# Member row locks serialise writers of one member; the same event id sent at once for two
# members meets only at the unique key, and the loser runs its batch again.
_ATTEMPTS = 5


def _ingest_once(
    store: Store,
    program_key: str,
    parsed: Parsed,
    clock: Clock,
    cache: MemberCache | None,
) -> list[Outcome]:
    saved: list[LockedMember] = []
    with store.transaction() as uow:
        program = active(uow, program_key)
        outcomes = apply_events(uow, program, parsed, clock(), cache, saved)
    if cache is not None:  # only what committed: a rolled-back state must never be reused
        cache.update((m.id, (m.revision + 1, m.state)) for m in saved)
    return outcomes


def apply_events(
    uow: UnitOfWork,
    program: ActiveProgram,
    parsed: Parsed,
    now: datetime,
    cache: MemberCache | None = None,
    saved: list[LockedMember] | None = None,
) -> list[Outcome]:
    """Evaluate and store a parsed chunk in the caller's transaction; members whose state was
    written are appended to ``saved`` (their stored revision is now ``revision + 1``)."""
    records, valid, rejected = parsed
    outcomes: list[Outcome | None] = [None] * len(records)
    for i, outcome in rejected:
        outcomes[i] = outcome
    member_ids = list(dict.fromkeys(e.member for _, e, _, _ in valid))
    locked = uow.members.lock_or_create_members(program.id, member_ids, cache)
    logged = uow.log.logged_events(program.id, "event", list({e.id for _, e, _, _ in valid}))
    compiled = program.compiled
    boards = BoardUpdates() if compiled.leaderboards else None
    facets, default_tier = facet_names(compiled)
    # each member's state before the chunk: where they stood on the boards, what the facet
    # index holds for them
    initial = {m.id: m.state for m in locked.values()} if boards is not None or facets else {}
    run = _ChunkRun(
        compiled, records, locked, logged, _first_results(uow, logged), boards, now, outcomes
    )
    wanted = uow.outbox.wanted_types(program.id)
    run.evaluate_all(valid, wanted)
    written = [m for m in locked.values() if m.id in run.changed]  # in lock order
    kept = kept_firsts(compiled)
    logged_ids = uow.log.write_evaluated(
        program.id, compiled.version, compiled.zone, run.evaluated, now, kept
    )
    if run.completions:
        run.messages += record(uow, program.id, run.completions, now, wanted)
    uow.outbox.append(program.id, run.messages, now)
    uow.members.save_members(((m.id, m.state) for m in written), now)
    if boards is not None:
        for m in written:
            boards.member(m.state.member, initial[m.id], m.state)
        boards.flush(uow, program.id, compiled, now)
    if facets:
        uow.facets.sync_facets(
            program.id,
            facets,
            ((m.id, None if m.fresh else initial[m.id], m.state) for m in written),
            default_tier,
        )
    if written or (logged_ids and kept is not None):
        # A version published while this chunk ran: read once the chunk has written (its
        # member writes, or its log rows, waited for the publish; service.programs)
        newer = _newer_version(uow, program)
        if newer is not None and written:
            _facets_of_a_newer_version(uow, program.id, newer, facets, default_tier, written)
        if newer is not None and logged_ids and kept is not None:
            _firsts_of_a_newer_version(uow, program.id, newer, kept, logged_ids)
    if saved is not None:
        saved.extend(written)
    uow.members.delete_members_without_state(
        [m.id for m in locked.values() if m.fresh and m.id not in run.changed]
    )
    return [o for o in outcomes if o is not None]


@dataclass
class _ChunkRun:
    """One chunk's pass through the engine: each event's outcome (in ``outcomes``), what is
    to be written (``evaluated``, ``messages``) and the members it changed."""

    compiled: CompiledProgram
    records: Sequence[Record]
    locked: dict[str, LockedMember]
    logged: dict[str, LoggedEvent]
    firsts: dict[int, dict[str, Any]]
    boards: BoardUpdates | None
    now: datetime
    outcomes: list[Outcome | None]
    evaluated: list[EvaluatedEvent] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    changed: dict[int, LockedMember] = field(default_factory=dict)
    completions: list[Assessed] = field(default_factory=list)  # events completing an assessment

    def evaluate_all(
        self, valid: list[tuple[int, Event, str, str]], wanted: frozenset[str]
    ) -> None:
        """Each valid event in order: a repeat gets its first result, the others the engine's."""
        compiled, locked, boards, now = self.compiled, self.locked, self.boards, self.now
        outcomes, evaluated, changed = self.outcomes, self.evaluated, self.changed
        seen: dict[str, tuple[str, Outcome]] = {}  # event id -> (digest, first outcome)
        for i, event, canonical, digest in valid:
            position = self.records[i][0]
            repeat = self._repeat(position, event.id, digest, seen)
            if repeat is not None:
                outcomes[i] = repeat
                continue
            member = locked[event.member]
            try:
                evaluation = evaluate(compiled, member.state, event)
            except AccoladeError as exc:
                outcomes[i] = _rejected(position, {"id": event.id}, exc)
                continue
            if boards is not None:
                boards.add(compiled, event, evaluation.entries, evaluation.state)
            if wanted:
                self.messages += notices(
                    wanted,
                    event.id,
                    member.state,
                    evaluation.state,
                    evaluation.entries,
                    now,
                    quests=compiled.quests,
                )
            if compiled.assessments:
                result = assessed(compiled, evaluation.entries, evaluation.state)
                if result is not None:
                    self.completions.append(Assessed(member.id, event, compiled.version, result))
            member.state = evaluation.state
            changed[member.id] = member
            status, entries, _, notes = evaluation
            outcome = Outcome(position, event.id, status, entries=entries, notes=notes)
            seen[event.id] = (digest, outcome)
            outcomes[i] = outcome
            evaluated.append(
                EvaluatedEvent(
                    event,
                    canonical,
                    digest,
                    member.id,
                    _STATUS_TEXT[status],
                    compact_json(notes) if notes else None,
                    entries,
                )
            )

    def _repeat(
        self, position: int, event_id: str, digest: str, seen: dict[str, tuple[str, Outcome]]
    ) -> Outcome | None:
        """The outcome of an id logged before, or sent earlier in this chunk; None if new."""
        first = self.logged.get(event_id)
        if first is not None:
            return _repeat(position, event_id, digest, first.body_hash, self.firsts[first.id])
        if event_id in seen:
            first_digest, first_outcome = seen[event_id]
            return _repeat(position, event_id, digest, first_digest, first_outcome.result)
        return None


def _newer_version(uow: UnitOfWork, program: ActiveProgram) -> CompiledProgram | None:
    """The active version, when a publish made another one active while this chunk ran. Only
    PostgreSQL lets a publish commit while a chunk runs; on SQLite the version read here is
    always the chunk's own (one read per chunk)."""
    current = uow.programs.active_version_number(program.id)
    if current is None or current == program.compiled.version:
        return None
    return compiled_version(uow, program.id, current)


def _facets_of_a_newer_version(
    uow: UnitOfWork,
    program_id: int,
    newer: CompiledProgram,
    facets: tuple[str, ...],
    default_tier: str | None,
    written: list[LockedMember],
) -> None:
    """The newer version may index other attributes; index these members as it says, since
    the publish rebuilt the index without them."""
    names, tier = facet_names(newer)
    if (names, tier) == (facets, default_tier):
        return
    if names:
        uow.facets.sync_facets(program_id, names, ((m.id, None, m.state) for m in written), tier)
    else:
        uow.facets.drop_member_facets(program_id, [m.id for m in written])


def _firsts_of_a_newer_version(
    uow: UnitOfWork, program_id: int, newer: CompiledProgram, kept: frozenset[str], ids: range
) -> None:
    """The newer version may read the firsts of other types, which the publish filled from the
    log without this chunk's events (FirstsRepository.cover): add them from its own rows."""
    wanted = kept_firsts(newer)
    if wanted is None or not wanted <= kept:
        uow.log.firsts.keep(program_id, ids, None if wanted is None else wanted - kept)


# Enum .value is a Python-level descriptor; a dict lookup is cheaper once per event.
_STATUS_TEXT = {status: status.value for status in Status}


def _first_results(uow: UnitOfWork, logged: dict[str, LoggedEvent]) -> dict[int, dict[str, Any]]:
    """Results of already-logged events, rebuilt from the entries they caused."""
    entries = uow.ledger.entries_caused([row.id for row in logged.values()])
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
        # An id that is not storable text is not echoed: it is what the error is about.
        event_id if isinstance(event_id, str) and text_problem(event_id) is None else None,
        Status.REJECTED,
        {"status": "rejected", "error": body},
        error,
    )


def _id_in(text: str | bytes) -> object:
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return decoded.get("id") if isinstance(decoded, dict) else None


def apply_own_events(
    uow: UnitOfWork, program: ActiveProgram, events: list[dict[str, Any]], now: datetime
) -> list[str]:
    """Events Accolade sends a member itself (a referral's stages, a reference's answers),
    received ``now``, evaluated and stored in the caller's transaction; their ids. One the
    engine refuses is an error (the caller's transaction keeps nothing)."""
    outcomes = apply_events(
        uow, program, parse_records(list(enumerate(events, 1)), reserved=True), now
    )
    failed = next((o for o in outcomes if o.status is Status.REJECTED), None)
    if failed is not None:
        raise InvalidInput(str(failed.error), field="event")
    return [e["id"] for e in events]
