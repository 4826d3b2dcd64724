"""Challenges as the program owner runs them: closing windows (winners paid once) and
completion rates per challenge and per segment."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accolade.engine.challenges import (
    CHALLENGE_WON,
    LAST,
    PROGRESS,
    REACHED,
    describe_goal,
    in_segment,
)
from accolade.engine.tiers import tier_of
from accolade.errors import AccoladeError, NotFound
from accolade.program.compiled import CompiledChallenge
from accolade.service import Clock, once_more_on_conflict, system_clock
from accolade.service.audit import record as audit_record
from accolade.service.ingest import apply_events, parse_records
from accolade.service.programs import ActiveProgram, active
from accolade.store.unit_of_work import Store, UnitOfWork


@dataclass(frozen=True)
class Winner:
    member: str
    rank: int
    progress: float
    reached_at: datetime


@dataclass(frozen=True)
class ClosedChallenge:
    key: str
    name: str
    award: str
    ends_at: datetime
    closed_at: datetime
    winners: list[Winner]
    # winners this close paid (first N / top N); 0 for "everyone", paid as they reached it
    paid: int


@dataclass(frozen=True)
class ChallengeState:
    """A challenge of the active version and whether it is over and closed."""

    key: str
    name: str
    ends_at: datetime
    closed: bool  # its winners are recorded
    due: bool  # its window has ended and it is not closed yet


def challenge_states(
    store: Store, program_key: str, clock: Clock = system_clock
) -> list[ChallengeState]:
    """Every challenge of the active version, the ones due to close first."""
    now = clock().timestamp()
    with store.read() as uow:
        program = active(uow, program_key)
        closed = uow.programs.challenge_closes(program.id)
    found = [
        ChallengeState(
            c.key,
            c.name,
            datetime.fromtimestamp(c.ends, UTC),
            c.key in closed,
            c.ends <= now and c.key not in closed,
        )
        for c in program.compiled.challenges.values()
    ]
    return sorted(found, key=lambda c: (not c.due, c.ends_at, c.key))


def close(
    store: Store, program_key: str, clock: Clock = system_clock, *, actor: str | None = None
) -> list[ClosedChallenge]:
    """Close every challenge whose window has ended and that is not closed yet: rank who
    reached the goal, record the winners and pay the first N / top N (challenge.won events in
    the log), all in one transaction. Closing again pays nobody. With ``actor``, each close is
    recorded in the audit log in the same transaction."""
    return once_more_on_conflict(lambda: _close_once(store, program_key, clock(), actor))


def _close_once(
    store: Store, program_key: str, now: datetime, actor: str | None = None
) -> list[ClosedChallenge]:
    with store.transaction() as uow:
        program = active(uow, program_key)
        compiled = program.compiled
        closed = uow.programs.challenge_closes(program.id)
        due = [
            c
            for c in compiled.challenges.values()
            if c.ends <= now.timestamp() and c.key not in closed
        ]
        if not due:
            return []
        records: dict[str, list[tuple[str, list[Any]]]] = defaultdict(list)
        for member, _, _, progress in uow.members.member_progress(program.id, "challenges"):
            for key, record in progress.get("challenges", {}).items():
                records[key].append((member, record))
        ranked = [(c, _rank(c, records.get(c.key, []))) for c in due]
        won: list[dict[str, Any]] = []
        for challenge, winners in ranked:
            uow.programs.record_close(
                program.id, challenge.key, compiled.version, _winners_json(winners), now
            )
            if challenge.first is not None or challenge.top is not None:
                ends = datetime.fromtimestamp(challenge.ends, UTC).isoformat()
                won += [
                    {
                        "id": won_event_id(challenge.key, w.member),
                        "type": CHALLENGE_WON,
                        "member": w.member,
                        "occurred_at": ends,
                        "properties": {"challenge": challenge.key, "rank": w.rank},
                    }
                    for w in winners
                ]
        # One batch for every challenge closed: its members are locked in the one order every
        # writer uses, so a close never deadlocks with an ingest.
        outcomes = apply_events(
            uow, program, parse_records(list(enumerate(won, 1)), reserved=True), now
        )
        refused = [o for o in outcomes if o.status.value == "rejected"]
        if refused:  # never record a close that did not pay its winners
            raise AccoladeError(f"closing could not pay a winner: {refused[0].result}")
        paid: dict[str, int] = {}
        for outcome in outcomes:
            if outcome.status.value == "accepted" and outcome.event_id is not None:
                key = outcome.event_id.split(":")[1]
                paid[key] = paid.get(key, 0) + 1
        if actor is not None:
            for challenge, winners in ranked:
                after = {"winners": [w.member for w in winners], "paid": paid.get(challenge.key, 0)}
                audit_record(
                    uow, actor, "challenge.closed", program.id, challenge.key, None, after, at=now
                )
        return [
            ClosedChallenge(
                key=challenge.key,
                name=challenge.name,
                award=challenge.award,
                ends_at=datetime.fromtimestamp(challenge.ends, UTC),
                closed_at=now,
                winners=winners,
                paid=paid.get(challenge.key, 0),
            )
            for challenge, winners in ranked
        ]


def _winners_json(winners: list[Winner]) -> str:
    return json.dumps(
        [
            {
                "member": w.member,
                "rank": w.rank,
                "progress": w.progress,
                "reached_at": w.reached_at.isoformat(),
            }
            for w in winners
        ]
    )


def won_event_id(challenge: str, member: str) -> str:
    """The id of the challenge.won event a winner is sent: stable (closing twice finds it a
    duplicate) and short whatever the member id's length (a hash of it)."""
    digest = hashlib.sha256(member.encode()).hexdigest()[:32]
    return f"{CHALLENGE_WON}:{challenge}:{digest}"


def _rank(challenge: CompiledChallenge, records: list[tuple[str, list[Any]]]) -> list[Winner]:
    """Who reached the goal inside the window, in award order: for `top`, by progress (ties:
    who got to that progress first, then member id); otherwise by when they reached the goal
    (ties: member id). `first` and `top` keep N."""
    reached = [
        (member, r)
        for member, r in records
        if r[REACHED] is not None and r[REACHED] < challenge.ends
    ]
    if challenge.top is not None:
        reached.sort(key=lambda mr: (-mr[1][PROGRESS], mr[1][LAST], mr[0]))
        reached = reached[: challenge.top]
    else:
        reached.sort(key=lambda mr: (mr[1][REACHED], mr[0]))
        if challenge.first is not None:
            reached = reached[: challenge.first]
    return [
        Winner(member, rank, r[PROGRESS], datetime.fromtimestamp(r[REACHED], UTC))
        for rank, (member, r) in enumerate(reached, 1)
    ]


@dataclass(frozen=True)
class SegmentStats:
    value: str | None  # the attribute's value (None: the attribute is not set)
    eligible: int  # members in the challenge's segment now
    participants: int  # members with progress
    reached: int  # members who reached the goal
    completion_percent: float  # reached of eligible


@dataclass(frozen=True)
class ChallengeStats:
    key: str
    name: str
    status: str  # upcoming | open | ended (window over, not closed yet) | closed
    goal: str
    award: str
    starts_at: datetime
    ends_at: datetime
    eligible: int
    participants: int
    reached: int
    completion_percent: float
    winners: list[str]  # recorded at the close, in rank order
    by: str | None
    segments: list[SegmentStats]


def stats(
    store: Store,
    program_key: str,
    challenge: str | None = None,
    by: str | None = None,
    clock: Clock = system_clock,
) -> list[ChallengeStats]:
    """Completion of each challenge (or one), optionally split by a member attribute."""
    now = clock().timestamp()
    with store.read() as uow:
        program = active(uow, program_key)
        chosen = list(program.compiled.challenges.values())
        if challenge is not None:
            chosen = [c for c in chosen if c.key == challenge]
            if not chosen:
                raise NotFound(
                    f"no challenge '{challenge}' in program '{program_key}'", field="challenge"
                )
        closes = uow.programs.challenge_closes(program.id)
        counts = _counts(uow, program, chosen, by)
    return [_stats(c, counts[c.key], closes.get(c.key), by, now) for c in chosen]


Counts = dict[str | None, list[int]]  # segment value -> [eligible, participants, reached]


def _counts(
    uow: UnitOfWork, program: ActiveProgram, chosen: list[CompiledChallenge], by: str | None
) -> dict[str, Counts]:
    """Per challenge and segment value: the members eligible, taking part, and reaching it."""
    compiled = program.compiled
    counts: dict[str, Counts] = {c.key: defaultdict(lambda: [0, 0, 0]) for c in chosen}
    for _, attrs, tier, progress in uow.members.member_progress(program.id):
        mine = progress.get("challenges", {})
        value = attrs.get(by) if by is not None else None
        group = None if value is None else str(value)
        for c in chosen:
            record = mine.get(c.key)
            eligible = in_segment(c, attrs, tier_of(compiled, tier), progress.get("stage"))
            if not eligible and record is None:
                continue
            row = counts[c.key][group]
            row[0] += int(eligible)
            row[1] += int(record is not None)
            row[2] += int(record is not None and record[REACHED] is not None)
    return counts


def _stats(
    c: CompiledChallenge, groups: Counts, recorded: Any, by: str | None, now: float
) -> ChallengeStats:
    total = [sum(g[i] for g in groups.values()) for i in range(3)]
    if now < c.starts:
        status = "upcoming"
    elif now < c.ends:
        status = "open"
    else:
        status = "closed" if recorded is not None else "ended"
    segments = [
        SegmentStats(value, g[0], g[1], g[2], _percent(g[2], g[0]))
        for value, g in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    ]
    return ChallengeStats(
        key=c.key,
        name=c.name,
        status=status,
        goal=describe_goal(c),
        award=c.award,
        starts_at=datetime.fromtimestamp(c.starts, UTC),
        ends_at=datetime.fromtimestamp(c.ends, UTC),
        eligible=total[0],
        participants=total[1],
        reached=total[2],
        completion_percent=_percent(total[2], total[0]),
        winners=[w["member"] for w in json.loads(recorded.winners)] if recorded else [],
        by=by,
        segments=segments if by is not None else [],
    )


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0
