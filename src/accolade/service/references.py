"""Reference requests: a sales rep asks for advocates matching criteria; Accolade ranks the
eligible ones so the same champions are not asked every time.

A request names member attributes the program's ``references.match`` lists (industry, company
size, product, region...) and, optionally, tiers and stages, each with one value or a list of
them. Candidates are the members with all of those, inside the program's reference segment,
not opted out (attribute ``reference_opt_out: true``), and under every fatigue limit (at most
``count`` asks ``within`` a rolling duration; an ask counts unless it was declined). They are
ranked least asked first (over the longest limit), then longest since their last ask, then in an
order the request id shuffles, so that advocates equal on both take turns across requests.

Asking is a separate step (the rep, or the advocate manager, picks from the candidates); an ask
then moves asked -> accepted -> completed, or asked -> declined. Accepting and completing send
the advocate ``reference.accepted`` and ``reference.completed`` events through the normal ingest
path, so the program pays for them like any action (points, badges, challenges, boards).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from accolade.engine.facets import STAGE, TIER, facet_text
from accolade.errors import Conflict, InvalidInput, NotFound
from accolade.program.compiled import REFERENCE_OPT_OUT, CompiledProgram, CompiledReferences
from accolade.service import Clock, once_more_on_conflict, public_id, system_clock
from accolade.service.ingest import apply_own_events
from accolade.service.programs import ActiveProgram, active
from accolade.store.unit_of_work import Store, UnitOfWork

MAX_ID = 100
MAX_COUNT = 50
ANSWERS = {"accept": "accepted", "decline": "declined", "complete": "completed"}


@dataclass(frozen=True)
class Candidate:
    rank: int
    member: str
    name: str | None  # the member's `name` attribute
    tier: str | None
    asked: int  # asks that count, over the longest fatigue limit
    last_asked_at: datetime | None


@dataclass(frozen=True)
class Ask:
    member: str
    status: str
    asked_at: datetime
    updated_at: datetime
    sent: list[str] = field(default_factory=list)  # events this call sent


@dataclass(frozen=True)
class ReferenceRequest:
    request_id: str
    requested_by: str
    criteria: dict[str, Any]
    note: str | None
    created_at: datetime
    candidates: list[Candidate] = field(default_factory=list)  # when the request was made
    asks: list[Ask] = field(default_factory=list)
    duplicate: bool = False


# requesting ---------------------------------------------------------------------------------


def request(
    store: Store,
    program_key: str,
    criteria: Mapping[str, Any],
    *,
    requested_by: str,
    count: int = 5,
    note: str | None = None,
    request_id: str | None = None,
    clock: Clock = system_clock,
) -> ReferenceRequest:
    """Record a request and return up to ``count`` ranked candidates for it. The same
    ``request_id`` again returns the request as it was made (with candidates ranked anew)."""
    rid = public_id(request_id, "request_id", "rr", MAX_ID)
    if not 1 <= count <= MAX_COUNT:
        raise InvalidInput(f"must be between 1 and {MAX_COUNT}", field="count")
    requested_by = requested_by.strip()
    if not requested_by or len(requested_by) > 200:
        raise InvalidInput("must be 1 to 200 characters", field="requested_by")

    def run() -> ReferenceRequest:
        with store.transaction() as uow:
            program = active(uow, program_key)
            policy = _policy(program.compiled)
            wanted = _criteria(policy, criteria)
            now = clock()
            earlier = uow.references.reference_request(program.id, rid)
            if earlier is not None:
                if json.loads(earlier.criteria) != _plain(criteria):
                    raise Conflict(
                        f"request '{rid}' was made before with other criteria", field="request_id"
                    )
                found = candidates(uow, program, policy, wanted, rid, count, now)
                return _request_view(uow, earlier, found, duplicate=True)
            uow.references.insert_reference_request(
                {
                    "program_id": program.id,
                    "request_id": rid,
                    "requested_by": requested_by,
                    "criteria": json.dumps(_plain(criteria), sort_keys=True),
                    "note": note.strip() if note and note.strip() else None,
                    "created_at": now,
                }
            )
            row = uow.references.reference_request(program.id, rid)
            found = candidates(uow, program, policy, wanted, rid, count, now)
            return _request_view(uow, row, found)

    return once_more_on_conflict(run)


def match(
    store: Store,
    program_key: str,
    criteria: Mapping[str, Any],
    *,
    count: int = 5,
    seed: str = "",
    clock: Clock = system_clock,
) -> list[Candidate]:
    """The ranked candidates for ``criteria``, recording nothing (a preview, and the bench)."""
    if not 1 <= count <= MAX_COUNT:
        raise InvalidInput(f"must be between 1 and {MAX_COUNT}", field="count")
    with store.read() as uow:
        program = active(uow, program_key)
        policy = _policy(program.compiled)
        wanted = _criteria(policy, criteria)
        return candidates(uow, program, policy, wanted, seed, count, clock())


def candidates(
    uow: UnitOfWork,
    program: ActiveProgram,
    policy: CompiledReferences,
    wanted: dict[str, list[str]],
    seed: str,
    count: int,
    now: datetime,
) -> list[Candidate]:
    limits = [(n, now - timedelta(seconds=s)) for n, s in policy.limits]
    longest = max((s for _, s in policy.limits), default=None)
    oldest = now - timedelta(seconds=longest) if longest is not None else None
    excluded: dict[str, list[str]] = {REFERENCE_OPT_OUT: ["true"]}
    for attribute, values in policy.segment_out:
        texts = _texts(values)
        if texts:  # `not_in: []` leaves nobody out (and `IN ()` is no SQL on PostgreSQL)
            excluded.setdefault(attribute, []).extend(texts)
    if any(not values for values in wanted.values()):
        return []  # a criterion outside the program's reference segment: nobody
    digest = hashlib.sha256(seed.encode()).digest()
    a = 1 + int.from_bytes(digest[:4], "big") % 2147483646
    b = int.from_bytes(digest[4:8], "big") % 2147483647
    references = uow.references
    rows = references.reference_candidates(
        program.id, wanted, excluded, limits, oldest, (a, b), count
    )
    people = references.member_summaries([int(r.member_id) for r in rows])
    out = []
    for rank, r in enumerate(rows, 1):
        external_id, attributes, tier = people[int(r.member_id)]
        shown = attributes.get("name")
        out.append(
            Candidate(
                rank,
                external_id,
                shown if isinstance(shown, str) else None,
                tier,
                int(r.asked),
                references.as_time(r.last_asked) if r.last_asked is not None else None,
            )
        )
    return out


def opted_out(attributes: Mapping[str, Any]) -> bool:
    """The member opted out of reference requests (attribute ``reference_opt_out: true``)."""
    return facet_text(attributes.get(REFERENCE_OPT_OUT)) == "true"  # as the index reads it


def fatigue(uow: UnitOfWork, program: CompiledProgram, member_pk: int, now: datetime) -> str | None:
    """The program's first fatigue limit the member has reached (asks that count ``within``
    its duration, up to ``now``), in words; None: under every limit, or no references."""
    if program.references is None:
        return None
    for n, seconds in program.references.limits:
        since = now - timedelta(seconds=seconds)
        if uow.references.asks_since(member_pk, since) >= n:
            return f"asked {n} time(s) since {since:%Y-%m-%d}: the program's limit"
    return None


def _policy(program: CompiledProgram) -> CompiledReferences:
    if program.references is None:
        raise NotFound(
            f"program '{program.key}' takes no reference requests (it has no 'references')",
            field="program",
        )
    return program.references


def _criteria(policy: CompiledReferences, criteria: Mapping[str, Any]) -> dict[str, list[str]]:
    """The request's criteria and the program's segment as facet values: name -> any of."""
    allowed = {**{n: n for n in policy.match}, "tier": TIER, "stage": STAGE}
    wanted: dict[str, list[str]] = {}
    for key, raw in criteria.items():
        facet = allowed.get(key)
        if facet is None:
            raise InvalidInput(
                f"'{key}' is not something requests match on; one of " + ", ".join(allowed),
                field=f"criteria.{key}",
            )
        given: list[Any] = raw if isinstance(raw, list) else [raw]
        texts = _texts(given)
        if not texts or len(texts) != len(given) or len(texts) > 100:
            raise InvalidInput(
                "must be a value or a list of 1 to 100 values (text, numbers, true/false)",
                field=f"criteria.{key}",
            )
        wanted[facet] = texts
    for facet, allowed_values in ((TIER, policy.tiers), (STAGE, policy.stages)):
        if allowed_values:
            asked = wanted.get(facet)
            wanted[facet] = sorted(allowed_values if asked is None else set(asked) & allowed_values)
    for attribute, values in policy.segment_in:
        inside = _texts(values)
        asked = wanted.get(attribute)
        wanted[attribute] = inside if asked is None else [v for v in asked if v in inside]
    # nothing can match a criterion left without values (outside the program's segment)
    return wanted


def _texts(values: Sequence[object]) -> list[str]:
    out = []
    for v in values:
        if isinstance(v, dict | list):
            continue
        text = facet_text(v)
        if text is not None:
            out.append(text)
    return out


def _plain(criteria: Mapping[str, Any]) -> dict[str, Any]:
    return {k: criteria[k] for k in sorted(criteria)}


# asking and answering -----------------------------------------------------------------------


def ask(
    store: Store,
    program_key: str,
    request_id: str,
    members: Sequence[str],
    *,
    clock: Clock = system_clock,
) -> ReferenceRequest:
    """Ask ``members`` for the request. Each must be under every fatigue limit and not opted
    out (checked again now: a candidate list can be old); asking the same member again for the
    same request changes nothing."""
    if not members or len(members) > MAX_COUNT:
        raise InvalidInput(f"name 1 to {MAX_COUNT} members", field="members")
    with store.transaction() as uow:
        program = active(uow, program_key)
        policy = _policy(program.compiled)
        row = uow.references.reference_request(program.id, request_id)
        if row is None:
            raise NotFound(f"no reference request '{request_id}'", field="request_id")
        now = clock()
        wanted = sorted(set(members))
        locked = uow.members.lock_members(program.id, wanted)
        missing = [m for m in wanted if m not in locked]
        if missing:
            raise NotFound(f"no member '{missing[0]}' in program '{program_key}'", field="members")
        already = {a.member for a in uow.references.reference_asks(int(row.id))}
        limits = [(n, now - timedelta(seconds=s)) for n, s in policy.limits]
        for i, member in enumerate(members):
            if member in already:
                continue
            state = locked[member].state
            if facet_text(state.attributes.get(REFERENCE_OPT_OUT)) == "true":  # as the index
                raise Conflict(f"{member} opted out of reference requests", field=f"members[{i}]")
            for n, since in limits:
                if uow.references.asks_since(locked[member].id, since) >= n:
                    raise Conflict(
                        f"{member} was asked {n} time(s) since {since:%Y-%m-%d}: the program's "
                        "limit",
                        field=f"members[{i}]",
                    )
            uow.references.insert_reference_ask(
                {
                    "program_id": program.id,
                    "request_id": int(row.id),
                    "member_id": locked[member].id,
                    "status": "asked",
                    "asked_at": now,
                    "updated_at": now,
                }
            )
            already.add(member)
        return _request_view(uow, row, [])


def answer(
    store: Store,
    program_key: str,
    request_id: str,
    member: str,
    answer: str,
    *,
    clock: Clock = system_clock,
) -> Ask:
    """The advocate ``accept``s, ``decline``s or ``complete``s (the call took place). Accepting
    sends ``reference.accepted``, completing ``reference.completed`` (and the accept, if it
    was skipped)."""
    if answer not in ANSWERS:
        raise InvalidInput(
            f"unknown answer '{answer}'; one of {', '.join(ANSWERS)}", field="answer"
        )
    with store.transaction() as uow:
        program = active(uow, program_key)
        row = uow.references.reference_request(program.id, request_id)
        if row is None:
            raise NotFound(f"no reference request '{request_id}'", field="request_id")
        locked = uow.members.lock_members(program.id, [member]).get(member)
        found = next(
            (a for a in uow.references.reference_asks(int(row.id)) if a.member == member), None
        )
        if locked is None or found is None:
            raise NotFound(f"{member} was not asked for request '{request_id}'", field="member")
        target = ANSWERS[answer]
        if found.status == target:
            return _ask(found)
        allowed = {
            "accepted": ("asked",),
            "declined": ("asked",),
            "completed": ("asked", "accepted"),
        }
        if found.status not in allowed[target]:
            raise Conflict(
                f"{member}'s ask is {found.status}; {answer} needs it "
                + " or ".join(allowed[target]),
                field="status",
            )
        now = clock()
        stages = {"accepted": ["accepted"], "declined": [], "completed": ["accepted", "completed"]}
        todo = [s for s in stages[target] if not (s == "accepted" and found.status == "accepted")]
        sent = _send(uow, program, row, member, todo, now)
        uow.references.update_reference_ask(int(found.id), status=target, updated_at=now)
        after = next(a for a in uow.references.reference_asks(int(row.id)) if a.member == member)
        return _ask(after, sent)


def _send(
    uow: UnitOfWork,
    program: ActiveProgram,
    row: Any,
    member: str,
    stages: list[str],
    at: datetime,
) -> list[str]:
    if not stages:
        return []
    who = hashlib.sha256(member.encode()).hexdigest()[:16]
    events: list[dict[str, Any]] = [
        {
            "id": f"reference:{row.request_id}:{who}:{stage}",
            "type": f"reference.{stage}",
            "member": member,
            "occurred_at": at.isoformat(),
            "properties": {"request_id": row.request_id, "requested_by": row.requested_by},
        }
        for stage in stages
    ]
    return apply_own_events(uow, program, events, at)


# reads --------------------------------------------------------------------------------------


def reference_request(store: Store, program_key: str, request_id: str) -> ReferenceRequest:
    with store.read() as uow:
        program = active(uow, program_key)
        row = uow.references.reference_request(program.id, request_id)
        if row is None:
            raise NotFound(f"no reference request '{request_id}'", field="request_id")
        return _request_view(uow, row, [])


@dataclass(frozen=True)
class MemberAsk:
    """A reference request as the advocate asked sees it."""

    request_id: str
    requested_by: str
    criteria: dict[str, Any]
    note: str | None
    status: str  # asked | accepted | declined | completed
    asked_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MemberReferences:
    """The asks addressed to a member, newest first, and whether they opted out of asks."""

    takes_references: bool  # the program has a `references` section
    opted_out: bool
    asks: list[MemberAsk]


def asks_of(store: Store, program_key: str, member: str) -> MemberReferences:
    """The reference requests ``member`` was asked for, and their opt-out."""
    with store.read() as uow:
        program = active(uow, program_key)
        row = uow.members.member(program.id, member)
        if row is None:
            raise NotFound(f"no member '{member}' in program '{program_key}'", field="member")
        asks = [
            MemberAsk(
                a.public_id,
                a.requested_by,
                json.loads(a.criteria),
                a.note,
                a.status,
                a.asked_at,
                a.updated_at,
            )
            for a in uow.references.member_asks(int(row.id))
        ]
        raw = row.attributes
        attributes = raw if isinstance(raw, dict) else json.loads(raw) if raw else {}
        opted_out = facet_text(attributes.get(REFERENCE_OPT_OUT)) == "true"  # as ask() reads it
        return MemberReferences(program.compiled.references is not None, opted_out, asks)


def _request_view(
    uow: UnitOfWork, row: Any, found: list[Candidate], *, duplicate: bool = False
) -> ReferenceRequest:
    return ReferenceRequest(
        request_id=row.request_id,
        requested_by=row.requested_by,
        criteria=json.loads(row.criteria),
        note=row.note,
        created_at=row.created_at,
        candidates=found,
        asks=[_ask(a) for a in uow.references.reference_asks(int(row.id))],
        duplicate=duplicate,
    )


def _ask(row: Any, sent: list[str] | None = None) -> Ask:
    return Ask(row.member, row.status, row.asked_at, row.updated_at, sent or [])
