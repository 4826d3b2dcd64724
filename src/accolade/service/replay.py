"""Replay: rebuild all derived state (ledger, badges, member states) from the event log.

Each logged event is evaluated again under the version it was first evaluated under, and each
reversal is applied again at its place in the log, so replay reproduces incremental ingestion.
The rebuild is one transaction: readers see the old state or the new one, never half of each.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accolade.engine.evaluate import evaluate
from accolade.engine.events import parse_event
from accolade.engine.facets import facet_names
from accolade.program.compiled import CompiledProgram
from accolade.service import Clock, system_clock
from accolade.service.adjustments import MANUAL, manual_entry
from accolade.service.assessments import Assessed, after_reversal, assessed, record
from accolade.service.board_updates import BoardUpdates
from accolade.service.expiry import expiry_entry
from accolade.service.programs import ActiveProgram, active, compiled_version
from accolade.service.redemptions import points_entry
from accolade.service.reverse import apply_reconciliation, reconcile_member
from accolade.store.repositories.ledger import NewEntry
from accolade.store.repositories.members import LockedMember
from accolade.store.unit_of_work import Store, UnitOfWork


@dataclass(frozen=True)
class ReplayReport:
    events: int
    reversals: int
    members: int


def replay(
    store: Store,
    program_key: str,
    *,
    chunk_size: int = 5000,
    clock: Clock = system_clock,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReplayReport:
    """Rebuild ``program_key``'s derived state; ``on_progress(done, total)`` after each chunk."""
    now = clock()
    with store.transaction() as uow, uow.large_page_cache():
        program = active(uow, program_key)
        total = uow.log.count_events(program.id)
        uow.ledger.clear_derived(program.id)
        uow.assessments.clear_results(program.id)
        uow.leaderboards.clear_leaderboards(program.id)
        uow.members.reset_members(program.id)
        uow.log.reset_reversals(program.id)
        uow.log.firsts.rebuild(program.id)  # the analytics rollup, as if no event were reversed
        uow.log.activity.rebuild(program.id, program.compiled.zone)  # in today's zone
        compiled: dict[int, CompiledProgram] = {}

        def version(v: int) -> CompiledProgram:
            if v not in compiled:
                compiled[v] = compiled_version(uow, program.id, v)
            return compiled[v]

        # The rebuild is one transaction: member states stay in memory from their first event
        # to the end, and are written once.
        states: dict[str, LockedMember] = {}
        after, done, n_events, n_reversals = 0, 0, 0, 0
        while rows := uow.log.log_after(program.id, after, chunk_size):
            pending: list[Any] = []
            for row in rows:
                if row.kind == "event":
                    pending.append(row)
                    continue
                n_events += _replay_events(uow, program, pending, version, now, states)
                pending = []
                if row.kind == "reversal":
                    _replay_reversal(uow, program, row, version, now, states)
                    n_reversals += 1
                elif row.kind != "warning":  # a redemption's points, a refund, an expiry...
                    _replay_points(uow, program, row, version, now, states)
            n_events += _replay_events(uow, program, pending, version, now, states)
            after = rows[-1].id
            done += len(rows)
            if on_progress is not None:
                on_progress(done, total)
        uow.members.save_members(((m.id, m.state) for m in states.values()), now)
        facets, default_tier = facet_names(program.compiled)
        uow.facets.clear_facets(program.id)
        if facets:
            uow.facets.sync_facets(
                program.id, facets, ((m.id, None, m.state) for m in states.values()), default_tier
            )
        return ReplayReport(n_events, n_reversals, uow.members.count_members(program.id))


def _replay_events(
    uow: UnitOfWork,
    program: ActiveProgram,
    rows: list[Any],
    version: Callable[[int], CompiledProgram],
    now: datetime,
    states: dict[str, LockedMember],
) -> int:
    if not rows:
        return 0
    program_id = program.id
    parsed = [(row, parse_event(row.body)) for row in rows]
    new = sorted({e.member for _, e in parsed if e.member not in states})  # the lock order
    states.update(uow.members.lock_members(program_id, new))
    entries: list[NewEntry] = []
    completions: list[Assessed] = []
    boards = BoardUpdates()
    for row, event in parsed:
        member = states[event.member]
        at = version(row.program_version)
        evaluation = evaluate(at, member.state, event)
        if at.assessments:
            result = assessed(at, evaluation.entries, evaluation.state)
            if result is not None:
                completions.append(Assessed(member.id, event, at.version, result))
        if at.leaderboards:
            boards.add(at, event, evaluation.entries, evaluation.state)
            boards.member(event.member, member.state, evaluation.state)
        member.state = evaluation.state
        entries.extend(
            NewEntry(member.id, row.id, row.id, event.occurred_at, e) for e in evaluation.entries
        )
    uow.ledger.insert_entries(program_id, entries, now, program.compiled.zone)
    uow.ledger.apply_badges(program_id, entries)
    record(uow, program_id, completions, now)  # stored again; their messages were sent
    boards.flush(uow, program_id, program.compiled, now)
    return len(rows)


def _replay_points(
    uow: UnitOfWork,
    program: ActiveProgram,
    row: Any,
    version: Callable[[int], CompiledProgram],
    now: datetime,
    states: dict[str, LockedMember],
) -> None:
    """A redemption's debit, its refund, an expiry or a manual adjustment, at its place in
    the log (balance only)."""
    program_id, zone = program.id, program.compiled.zone
    body = json.loads(row.body)
    external_id = uow.members.member_external_id(row.member_id)
    if external_id not in states:
        states.update(uow.members.lock_members(program_id, [external_id]))
    locked = states[external_id]
    if row.kind == "expiry":
        entry = expiry_entry(row.event_id, int(body["points"]), body["reason"], row.program_version)
    elif row.kind == MANUAL:
        entry = manual_entry(row.event_id, int(body["points"]), body["reason"], row.program_version)
    else:
        item = version(row.program_version).rewards.get(body["reward"])
        entry = points_entry(
            row.kind,
            row.event_id,
            body["reward"],
            item.name if item else body["reward"],
            int(body["points"]),
            body["reason"],
            row.program_version,
        )
    at = datetime.fromisoformat(body["at"])
    uow.ledger.insert_entries(
        program_id, [NewEntry(locked.id, row.id, row.id, at, entry)], now, zone
    )
    locked.state.balance += int(body["points"])


def _replay_reversal(
    uow: UnitOfWork,
    program: ActiveProgram,
    row: Any,
    version: Callable[[int], CompiledProgram],
    now: datetime,
    states: dict[str, LockedMember],
) -> None:
    program_id = program.id
    reason = json.loads(row.body)["reason"]
    target = uow.log.event_row(program_id, "event", row.event_id)
    assert target is not None
    external_id = uow.members.member_external_id(row.member_id)
    if external_id not in states:
        states.update(uow.members.lock_members(program_id, [external_id]))
    locked = states[external_id]
    evaluation = reconcile_member(
        uow,
        program_id,
        version(row.program_version),
        locked.id,
        locked.state,
        row.event_id,
        reason,
        int(target.occurred_at.timestamp()),
        row.id,
    )
    boards = BoardUpdates()
    boards.reversal(uow, program_id, version, locked.id, row.event_id, row.id)
    boards.member(external_id, locked.state, evaluation.state)
    uow.log.mark_reversed(target.id, row.id)
    apply_reconciliation(uow, program_id, program.compiled.zone, locked.id, row.id, evaluation, now)
    boards.flush(uow, program_id, program.compiled, now)
    if locked.state.assessments:
        at = version(row.program_version)
        after_reversal(uow, at, program_id, locked.id, locked.state, evaluation.state)
    locked.state = evaluation.state
