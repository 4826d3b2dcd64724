"""Points expiry: earned points not spent within the program's ``points.expiry.after`` expire,
oldest first, with a warning ``warn`` ahead. Run daily (``accolade points expire``, cron).

What is due is engine.expiry's rule (first in, first out, from the ledger's totals). Each expiry is a log row of kind
``expiry`` with its ledger entry (balance only, never lifetime points or the tier), so replay
rebuilds it, and running the job twice on a day expires nothing more. A warning is a
``points.expiring`` webhook with what expires within ``warn``, at most once per ``warn`` period
per member (a log row of kind ``warning`` keeps it from being sent twice).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from accolade.engine import expiry as rules
from accolade.engine.effects import Entry, EntryKind
from accolade.engine.events import EVENT_SCHEMA_VERSION, body_hash
from accolade.engine.state import compact_json
from accolade.program.compiled import CompiledProgram
from accolade.program.durations import format_duration
from accolade.service import Clock, system_clock
from accolade.service.notify import POINTS_EXPIRING
from accolade.service.programs import ActiveProgram, active
from accolade.store.repositories.ledger import NewEntry
from accolade.store.repositories.log import NewLoggedEvent
from accolade.store.repositories.members import LockedMember
from accolade.store.unit_of_work import Store, UnitOfWork

BATCH = 1000


@dataclass(frozen=True)
class ExpiryReport:
    members: int  # members whose points expired
    points: int  # points expired in all
    warned: int  # members warned of points about to expire


def expire_points(
    store: Store,
    program_key: str,
    *,
    clock: Clock = system_clock,
    on_progress: Callable[[int], None] | None = None,
) -> ExpiryReport:
    """Expire what is due and warn of what is coming, a transaction per batch of members."""
    now = clock()
    with store.read() as uow:
        program = active(uow, program_key)
    if program.compiled.expire_after is None:
        return ExpiryReport(0, 0, 0)
    after_id, expired_members, expired_points, warned = 0, 0, 0, 0
    while True:
        with store.transaction() as uow:
            program = active(uow, program_key)
            batch = uow.members.members_with_balance(program.id, after_id, BATCH)
            if not batch:
                break
            after_id = batch[-1][0]
            done = _expire_batch(uow, program, [external for _, external in batch], now)
        expired_members += done[0]
        expired_points += done[1]
        warned += done[2]
        if on_progress is not None:
            on_progress(len(batch))
    return ExpiryReport(expired_members, expired_points, warned)


def _expire_batch(
    uow: UnitOfWork, program: ActiveProgram, externals: list[str], now: datetime
) -> tuple[int, int, int]:
    """Lock the batch's members, decide what expires and whom to warn, and write it."""
    compiled = program.compiled
    if compiled.expire_after is None:  # a version without expiry was published meanwhile
        return 0, 0, 0
    locked = uow.members.lock_members(program.id, sorted(externals))
    by_pk = {m.id: m for m in locked.values()}
    rows, messages = _due_and_coming(uow, program, by_pk, now)
    if not rows:
        return 0, 0, 0
    _write(uow, program, by_pk, rows, now)
    uow.outbox.append(program.id, messages, now)
    expiries = [points for _, kind, _, points in rows if kind == "expiry"]
    return len(expiries), -sum(expiries), len(rows) - len(expiries)


Row = tuple[int, str, str, int]  # (member pk, kind, event id, points)


def _due_and_coming(
    uow: UnitOfWork, program: ActiveProgram, by_pk: dict[int, LockedMember], now: datetime
) -> tuple[list[Row], list[tuple[str, str]]]:
    """The log rows to write (an expiry per member with points due, unless one was written
    today; a warning per member with points coming, unless one was sent this warning
    period), and the warnings' webhook messages."""
    compiled = program.compiled
    assert compiled.expire_after is not None
    warn = compiled.expiry_warn
    totals = uow.ledger.expiry_totals(list(by_pk), rules.cutoffs(now, compiled.expire_after, warn))
    day = f"{now:%Y-%m-%d}"
    window = int(now.timestamp() // warn) if warn else 0
    logged = uow.log.logged_events(program.id, "expiry", [f"{pk}:{day}" for pk in by_pk])
    warned_before = (
        uow.log.logged_events(program.id, "warning", [f"{pk}:{window}" for pk in by_pk])
        if warn
        else {}
    )
    wanted = uow.outbox.wanted_types(program.id)
    rows: list[Row] = []
    messages = []
    for pk, member_totals in totals.items():
        balance = by_pk[pk].state.balance
        due = rules.due(member_totals, balance)
        if due and f"{pk}:{day}" not in logged:
            rows.append((pk, "expiry", f"{pk}:{day}", -due))
        if warn and f"{pk}:{window}" not in warned_before:
            coming = rules.coming(member_totals, balance, due)
            if coming:
                rows.append((pk, "warning", f"{pk}:{window}", coming))
                if "*" in wanted or POINTS_EXPIRING in wanted:
                    by = now + timedelta(seconds=warn)
                    messages.append(_warning(by_pk[pk].state.member, coming, by, now))
    return rows, messages


def _write(
    uow: UnitOfWork,
    program: ActiveProgram,
    by_pk: dict[int, LockedMember],
    rows: list[Row],
    now: datetime,
) -> None:
    """The log rows, the expiries' ledger entries, and the members' new balances."""
    compiled = program.compiled
    assert compiled.expire_after is not None
    why = f"not spent within {_span(compiled.expire_after)} of earning"
    log_ids = uow.log.insert_events(
        program.id,
        [
            _log_row(kind, event_id, pk, points, why, compiled.version, now)
            for pk, kind, event_id, points in rows
        ],
        now,
    )
    entries = []
    changed = []
    for (pk, kind, event_id, points), log_id in zip(rows, log_ids, strict=True):
        if kind != "expiry":
            continue
        entries.append(
            NewEntry(pk, log_id, log_id, now, expiry_entry(event_id, points, why, compiled.version))
        )
        state = by_pk[pk].state.successor()
        state.balance += points
        by_pk[pk].state = state
        changed.append((pk, state))
    uow.ledger.insert_entries(program.id, entries, now, program.compiled.zone)
    uow.members.save_members(changed, now)


def _log_row(
    kind: str, event_id: str, member_pk: int, points: int, why: str, version: int, now: datetime
) -> NewLoggedEvent:
    """An expiry's or a warning's log row: what replay rebuilds the entry from."""
    body = json.dumps(
        {"points": points, "reason": why, "at": now.isoformat()},
        sort_keys=True,
        separators=(",", ":"),
    )
    return NewLoggedEvent(
        kind=kind,
        event_id=event_id,
        type=f"points.{kind}",
        member_id=member_pk,
        occurred_at=now,
        program_version=version,
        schema_version=EVENT_SCHEMA_VERSION,
        body_hash=body_hash(body),
        body=body,
        status="accepted",
        notes=None,
    )


def _span(seconds: int) -> str:
    """365 days, not 52w1d."""
    days, rest = divmod(seconds, 86400)
    return f"{days} days" if days and not rest else format_duration(seconds)


def give_back_expired(
    uow: UnitOfWork, program: ActiveProgram, member: LockedMember, cause: int, now: datetime
) -> None:
    """After a reversal: points of the reversed event that had already expired were taken
    twice (by the expiry, then by the reversal); give back what the member's expiries took
    beyond what they had earned by the last cutoff, in the reversal's transaction."""
    compiled = program.compiled
    if compiled.expire_after is None:
        return
    [cutoff] = rules.cutoffs(now, compiled.expire_after, None)
    found = uow.ledger.expiry_totals([member.id], [cutoff]).get(member.id)
    back = rules.given_back(found) if found is not None else 0
    if not back:
        return
    why = "the event they were earned by was reversed"
    event_id = f"{member.id}:undo:{cause}"
    [log_id] = uow.log.insert_events(
        program.id, [_log_row("expiry", event_id, member.id, back, why, compiled.version, now)], now
    )
    entry = expiry_entry(event_id, back, why, compiled.version)
    uow.ledger.insert_entries(
        program.id, [NewEntry(member.id, log_id, log_id, now, entry)], now, compiled.zone
    )
    state = member.state.successor()
    state.balance += back
    member.state = state
    uow.members.save_members([(member.id, state)], now)


def pending_points(uow: UnitOfWork, program: CompiledProgram, member_pk: int, now: datetime) -> int:
    """Points of the balance still pending (earned within the program's ``points.pending``)."""
    if not program.pending_for:
        return 0
    since = rules.pending_since(now, program.pending_for)
    return rules.pending(uow.ledger.earned_since(member_pk, since))


def expiry_entry(event_id: str, points: int, why: str, version: int) -> Entry:
    """The ledger entry of an expiry (negative points), or of expired points given back
    (positive); replay builds the same from the log row's body."""
    if points > 0:
        text = f"{points:,} expired points given back: {why}"
        return Entry(event_id, EntryKind.EXPIRY, "expiry", points, 0, text, version)
    return Entry(
        event_id,
        EntryKind.EXPIRY,
        "expiry",
        points,
        0,
        f"{-points:,} points expired: {why}",
        version,
    )


def _warning(member: str, points: int, by: datetime, now: datetime) -> tuple[str, str]:
    data = {"member": member, "points": points, "by": by.isoformat().replace("+00:00", "Z")}
    text = now.isoformat().replace("+00:00", "Z")
    return POINTS_EXPIRING, compact_json({"type": POINTS_EXPIRING, "timestamp": text, "data": data})
