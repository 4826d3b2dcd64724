"""Reverse an event (a disqualified lead, a fraudulent review): compensate everything it caused."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from accolade.engine.effects import Evaluation, result_of
from accolade.engine.events import EVENT_SCHEMA_VERSION, body_hash, parse_event
from accolade.engine.facets import facet_names
from accolade.engine.reconcile import reconcile
from accolade.engine.state import MemberState
from accolade.errors import Conflict, InvalidInput, NotFound
from accolade.program.compiled import CompiledProgram
from accolade.service import Clock, system_clock
from accolade.service.assessments import after_reversal
from accolade.service.audit import record
from accolade.service.board_updates import BoardUpdates
from accolade.service.expiry import give_back_expired
from accolade.service.notify import notices
from accolade.service.programs import ActiveProgram, active, compiled_version
from accolade.store.repositories.ledger import NewEntry
from accolade.store.repositories.log import NewLoggedEvent
from accolade.store.repositories.members import LockedMember
from accolade.store.unit_of_work import Store, UnitOfWork


def reverse(
    store: Store,
    program_key: str,
    event_id: str,
    reason: str,
    *,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> dict[str, Any]:
    """Reverse ``event_id``; the same reversal again returns the first result. With ``actor``
    (a console user's email), recorded in the audit log in the same transaction."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the event is reversed", field="reason")
    with store.transaction() as uow:
        program = active(uow, program_key)
        now = clock()
        result = reverse_in(uow, program, event_id, reason, now)
        if actor is not None and result.get("status") != "duplicate":
            after = {"event_id": event_id, "reason": reason, "result": result}
            record(uow, actor, "event.reversed", program.id, event_id, None, after, at=now)
        return result


def reverse_in(
    uow: UnitOfWork, program: ActiveProgram, event_id: str, reason: str, now: datetime
) -> dict[str, Any]:
    """Reverse ``event_id`` in ``uow``: find it, lock its member, answer an earlier reversal
    of it, or reconcile the member's history without it and write what changed."""
    target = uow.log.event_row(program.id, "event", event_id)
    if target is None:
        raise NotFound(
            f"no event '{event_id}' in program '{program.compiled.key}'", field="event_id"
        )
    body = json.dumps(
        {"event_id": event_id, "reason": reason}, sort_keys=True, separators=(",", ":")
    )
    # The earlier reversal is looked for with the member locked: a concurrent reversal of the
    # same event holds that lock until it commits, and then this transaction sees its row
    # (READ COMMITTED reads afresh after the wait) instead of inserting a second one.
    member = uow.members.lock_members(
        program.id, [uow.members.member_external_id(target.member_id)]
    )
    locked = next(iter(member.values()))
    earlier = _earlier_reversal(uow, program, event_id, body_hash(body))
    if earlier is not None:
        return earlier
    evaluation = reconcile_member(
        uow,
        program.id,
        program.compiled,
        locked.id,
        locked.state,
        event_id,
        reason,
        int(target.occurred_at.timestamp()),
    )
    reversal_pk = _log_reversal(uow, program, locked.id, target, body, evaluation, now)
    _write(uow, program, locked, (target.id, reversal_pk), event_id, reason, evaluation, now)
    return evaluation.result()


def _earlier_reversal(
    uow: UnitOfWork, program: ActiveProgram, event_id: str, digest: str
) -> dict[str, Any] | None:
    """The first result again when the event was reversed for the same reason; Conflict when
    it was reversed for another."""
    earlier = uow.log.event_row(program.id, "reversal", event_id)
    if earlier is None:
        return None
    if earlier.body_hash != digest:
        raise Conflict(
            f"event '{event_id}' was already reversed ({earlier.received_at:%Y-%m-%d})",
            field="event_id",
        )
    caused = uow.ledger.entries_caused([earlier.id])[earlier.id]
    return {"status": "duplicate", "first": result_of(earlier.status, caused, ())}


def _log_reversal(
    uow: UnitOfWork,
    program: ActiveProgram,
    member_pk: int,
    target: Any,
    body: str,
    evaluation: Evaluation,
    now: datetime,
) -> int:
    """The reversal's log row (what replay reverses again), at the reversed event's time."""
    [reversal_pk] = uow.log.insert_events(
        program.id,
        [
            NewLoggedEvent(
                kind="reversal",
                event_id=target.event_id,
                type="reversal",
                member_id=member_pk,
                occurred_at=target.occurred_at,
                program_version=program.compiled.version,
                schema_version=EVENT_SCHEMA_VERSION,
                body_hash=body_hash(body),
                body=body,
                status=evaluation.status.value,
                notes=None,
            )
        ],
        now,
    )
    return reversal_pk


def _write(
    uow: UnitOfWork,
    program: ActiveProgram,
    locked: LockedMember,
    log_pks: tuple[int, int],
    event_id: str,
    reason: str,
    evaluation: Evaluation,
    now: datetime,
) -> None:
    """What the reversal changed: the reversed event marked (``log_pks``: its log row and the
    reversal's), ledger and member, boards, expired points given back, reference facets, and
    the notices."""
    target_pk, reversal_pk = log_pks
    boards = BoardUpdates()
    boards.reversal(uow, program.id, lambda v: _version(uow, program, v), locked.id, event_id)
    boards.member(locked.state.member, locked.state, evaluation.state)
    uow.log.mark_reversed(target_pk, reversal_pk)
    apply_reconciliation(
        uow, program.id, program.compiled.zone, locked.id, reversal_pk, evaluation, now
    )
    boards.flush(uow, program.id, program.compiled, now)
    before, locked.state = locked.state, evaluation.state
    if before.assessments:
        after_reversal(uow, program.compiled, program.id, locked.id, before, evaluation.state)
    give_back_expired(uow, program, locked, reversal_pk, now)
    facets, default_tier = facet_names(program.compiled)
    if facets:
        uow.facets.sync_facets(
            program.id, facets, [(locked.id, before, evaluation.state)], default_tier
        )
    wanted = uow.outbox.wanted_types(program.id)
    messages = notices(
        wanted,
        event_id,
        before,
        evaluation.state,
        evaluation.entries,
        now,
        reason,
        quests=program.compiled.quests,
    )
    uow.outbox.append(program.id, messages, now)


def _version(uow: UnitOfWork, program: ActiveProgram, version: int) -> CompiledProgram:
    if version == program.compiled.version:
        return program.compiled
    return compiled_version(uow, program.id, version)


def reconcile_member(
    uow: UnitOfWork,
    program_id: int,
    at: CompiledProgram,
    member_pk: int,
    current: MemberState,
    event_id: str,
    reason: str,
    reversed_at: int,
    before_log_id: int | None = None,
) -> Evaluation:
    """Compensation for reversing ``event_id``, under program version ``at``.

    ``before_log_id`` limits the member's history to what was logged before the reversal
    (replay passes it: later events are in the log but not yet replayed).
    """
    history = [
        h for h in uow.log.member_history(member_pk, before_log_id) if h.event_id != event_id
    ]
    programs: dict[int, CompiledProgram] = {at.version: at}
    for h in history:
        if h.program_version not in programs:
            programs[h.program_version] = compiled_version(uow, program_id, h.program_version)
    events = [(parse_event(h.body), h.program_version) for h in history]
    totals = uow.ledger.ledger_totals(member_pk)
    return reconcile(programs, events, current, totals, event_id, reason, at.version, reversed_at)


def apply_reconciliation(
    uow: UnitOfWork,
    program_id: int,
    zone: ZoneInfo,
    member_pk: int,
    cause_pk: int,
    evaluation: Evaluation,
    now: datetime,
) -> None:
    subjects = {e.event_id for e in evaluation.entries}
    rows = uow.log.logged_events(program_id, "event", sorted(subjects))
    entries = [
        NewEntry(member_pk, rows[e.event_id].id, cause_pk, rows[e.event_id].occurred_at, e)
        for e in evaluation.entries
    ]
    uow.ledger.insert_entries(program_id, entries, now, zone)
    uow.ledger.apply_badges(program_id, entries)
    uow.members.save_members([(member_pk, evaluation.state)], now)
