"""What a member (or an admin looking at one) sees: balances, tier, badges, every point explained."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from accolade.engine.challenges import ChallengeProgress, challenge_progress
from accolade.engine.effects import EntryKind
from accolade.engine.entitlements import entitlements
from accolade.engine.experiments import ArmView, arms_view
from accolade.engine.quests import QuestProgress, quest_progress
from accolade.engine.stages import StageView, stage_view
from accolade.engine.state import MemberState
from accolade.engine.streaks import StreakStatus, streak_status
from accolade.errors import InvalidInput, NotFound
from accolade.program.compiled import MEMBER_UPDATED, CompiledProgram
from accolade.program.models import Scalar
from accolade.service import Clock, system_clock
from accolade.service.expiry import pending_points
from accolade.service.ingest import ingest_batch
from accolade.service.programs import ActiveProgram, active, active_with_member
from accolade.store.unit_of_work import Store, UnitOfWork

ENTRY_KINDS = tuple(k.value for k in EntryKind)


@dataclass(frozen=True)
class HeldBadge:
    key: str
    name: str
    period: str
    awarded_at: datetime
    event_id: str | None = None


@dataclass(frozen=True)
class EntryLine:
    """One ledger entry with what produced it: event -> rule -> entry -> version."""

    id: int
    event_id: str
    event_type: str
    occurred_at: datetime
    kind: str
    rule: str
    period: str
    points: int
    lifetime_points: int
    version: int
    reason: str


@dataclass(frozen=True)
class MemberView:
    member: str
    team: str | None
    company: str | None
    attributes: dict[str, Any]
    balance: int
    lifetime: int
    tier: str | None
    tier_name: str | None
    benefits: dict[str, Scalar]
    next_tier: str | None  # key, as ``tier`` is
    next_tier_name: str | None
    points_to_next_tier: int | None
    badges: list[HeldBadge]
    recent: list[EntryLine]
    # what completed quests entitle the member to, for the host product to apply
    entitlements: dict[str, Scalar]
    quests: list[QuestProgress]
    challenges: list[ChallengeProgress]
    streaks: list[StreakStatus] = field(default_factory=list)  # as of the service's clock
    # the lifecycle stage, its entitlements and next step, and the stage after it
    stage: StageView | None = None
    # of the balance, points still pending (the program's `points.pending`): not spendable yet
    pending: int = 0
    # the member's arm in each experiment they take part in
    experiments: list[ArmView] = field(default_factory=list)


@dataclass(frozen=True)
class MemberRow:
    member: str
    team: str | None
    company: str | None
    lifetime: int
    balance: int
    tier: str | None
    badges: list[str]


def show(
    store: Store, program_key: str, member: str, recent: int = 10, clock: Clock = system_clock
) -> MemberView:
    """The member as they see themselves; quests as of ``clock()`` (a time limit may run out)."""
    with store.read() as uow:
        program, row = program_and_member(uow, program_key, member)
        compiled = program.compiled
        state, now = row.state, int(clock().timestamp())
        tiers = compiled.tiers
        current = next((t for t in tiers if t.key == row.tier), None)
        upcoming = next((t for t in tiers if t.min_points > row.lifetime), None)
        names = compiled.badges
        badges = [
            HeldBadge(
                b.badge,
                names[b.badge].name if b.badge in names else b.badge,
                b.period,
                b.awarded_at,
            )
            for b in uow.ledger.badges_of(row.id)
        ]
        lines = [_line(r) for r in uow.ledger.ledger(row.id, limit=recent, newest_first=True)]
        return MemberView(
            member=row.external_id,
            team=row.team,
            company=row.company,
            attributes=dict(row.attributes or {}),
            balance=int(row.balance),
            lifetime=int(row.lifetime),
            tier=row.tier,
            tier_name=current.name if current else None,
            benefits=dict(current.benefits) if current else {},
            next_tier=upcoming.key if upcoming else None,
            next_tier_name=upcoming.name if upcoming else None,
            points_to_next_tier=upcoming.min_points - int(row.lifetime) if upcoming else None,
            badges=badges,
            recent=lines,
            entitlements=entitlements(compiled, state),
            quests=quest_progress(compiled, state, now),
            challenges=challenge_progress(compiled, state, now),
            streaks=_streaks(compiled, state, now),
            stage=stage_view(compiled, state),
            pending=pending_points(uow, compiled, row.id, datetime.fromtimestamp(now, UTC)),
            experiments=arms_view(compiled, state, now),
        )


def update(
    store: Store,
    program_key: str,
    member: str,
    *,
    attributes: dict[str, Scalar | None] | None = None,
    team: str | None = None,
    company: str | None = None,
    idempotency_key: str | None = None,
    clock: Clock = system_clock,
) -> MemberView:
    """Merge ``attributes`` into the member's (None clears one) and set their team or company:
    a `member.updated` event in the log, evaluated like any other, so replay rebuilds it. A
    member the program has never seen is created (an upsert, as a first event would). The
    same ``idempotency_key`` again changes nothing."""
    event_id = f"{MEMBER_UPDATED}:{idempotency_key or secrets.token_hex(12)}"
    at = clock()
    if idempotency_key is not None:
        with store.read() as uow:
            earlier = uow.log.event_row(active(uow, program_key).id, "event", event_id)
        if earlier is not None:  # a retry: the change is compared, not the time it was sent
            at = earlier.occurred_at.replace(tzinfo=UTC)
    event: dict[str, Any] = {
        "id": event_id,
        "type": MEMBER_UPDATED,
        "member": member,
        "occurred_at": at.astimezone(UTC).isoformat(),
    }
    if attributes:
        event["attributes"] = attributes
    if team is not None:
        event["team"] = team
    if company is not None:
        event["company"] = company
    [outcome] = ingest_batch(store, program_key, [(0, event)], clock=clock)
    if outcome.error is not None:
        raise outcome.error
    return show(store, program_key, member, clock=clock)


def explain(store: Store, program_key: str, member: str) -> list[EntryLine]:
    """Every ledger entry of ``member``, oldest first, with the event and version behind it."""
    with store.read() as uow:
        _, row = program_and_member(uow, program_key, member)
        return [_line(r) for r in uow.ledger.ledger(row.id)]


def ledger_page(
    store: Store,
    program_key: str,
    member: str,
    before: int | None,
    limit: int,
    *,
    kind: str | None = None,
    rule: str | None = None,
    from_day: date | None = None,
    to_day: date | None = None,
) -> list[EntryLine]:
    """A page of ``member``'s ledger, newest first; ``before`` is the id of the last entry
    of the previous page. ``kind`` and ``rule`` keep only their entries; ``from_day`` and
    ``to_day`` (days in the program's time zone, both included) only the entries about
    events that occurred on those days."""
    if kind is not None and kind not in ENTRY_KINDS:
        raise InvalidInput(f"unknown kind '{kind}'; one of {', '.join(ENTRY_KINDS)}", field="kind")
    if from_day is not None and to_day is not None and to_day < from_day:
        raise InvalidInput(f"must not be before {from_day.isoformat()}", field="to_day")
    with store.read() as uow:
        program, row = program_and_member(uow, program_key, member)
        zone = program.compiled.zone
        since = datetime.combine(from_day, time(), zone) if from_day is not None else None
        until = (
            datetime.combine(to_day + timedelta(days=1), time(), zone)
            if to_day is not None and to_day < date.max
            else None
        )
        rows = uow.ledger.ledger_page(
            row.id, before, limit, kind=kind, rule=rule, since=since, until=until
        )
        return [_line(r) for r in rows]


def ledger_rules(store: Store, program_key: str, member: str) -> list[tuple[str, str]]:
    """(kind, rule) of every entry in ``member``'s ledger, each pair once: what a history
    can be filtered by."""
    with store.read() as uow:
        _, row = program_and_member(uow, program_key, member)
        return uow.ledger.ledger_rules(row.id)


def rule_names(store: Store, program_key: str) -> dict[str, str]:
    """The active version's rules as ledger entries name them (``action:KEY``, ``badge:KEY``,
    ...) -> the name a member reads; an action without a name goes by its key."""
    with store.read() as uow:
        compiled = active(uow, program_key).compiled
    named: list[tuple[str, str, str]] = [
        *(("action", a.key, a.name or a.key) for a in compiled.definition.actions),
        *(("badge", b.key, b.name) for b in compiled.badges.values()),
        *(("tier", t.key, t.name) for t in compiled.tiers),
        *(("quest", q.key, q.name) for q in compiled.quests.values()),
        *(("challenge", c.key, c.name) for c in compiled.challenges.values()),
        *(("stage", s.key, s.name) for s in compiled.stages),
        *(("streak", s.key, s.name) for s in compiled.definition.streaks),
        *(("leaderboard", b.key, b.name) for b in compiled.leaderboards.values()),
        *(("reward", r.key, r.name) for r in compiled.rewards.values()),
    ]
    return {f"{kind}:{key}": name for kind, key, name in named}


@dataclass(frozen=True)
class EntryExplained:
    """One ledger entry and the log row behind it."""

    line: EntryLine
    source: str  # the log row's kind: event, reversal, redemption, refund, expiry...
    properties: dict[str, Any]  # an event's properties; for other rows, their body


def explain_entry(store: Store, program_key: str, member: str, entry_id: int) -> EntryExplained:
    """Entry ``entry_id`` of ``member``'s ledger with the event that earned it; NotFound for
    an entry of anybody else."""
    with store.read() as uow:
        _, row = program_and_member(uow, program_key, member)
        found = uow.ledger.ledger_entry(row.id, entry_id)
    if found is None:
        raise NotFound(f"no entry {entry_id} in {member}'s ledger", field="entry_id")
    body = json.loads(found.event_body)
    properties = body.get("properties", {}) if found.event_kind == "event" else body
    return EntryExplained(_line(found), str(found.event_kind), dict(properties))


@dataclass(frozen=True)
class BadgeInfo:
    key: str
    name: str
    description: str | None
    points: int
    repeat: str
    holders: int


@dataclass(frozen=True)
class TierInfo:
    key: str
    name: str
    min_points: int
    benefits: dict[str, Scalar]
    members: int


def badges(store: Store, program_key: str) -> list[BadgeInfo]:
    """The active version's badges, with how many members hold each."""
    with store.read() as uow:
        program = active(uow, program_key)
        held = uow.ledger.badge_counts(program.id)
    return [
        BadgeInfo(b.key, b.name, b.description, b.points, b.repeat, held.get(b.key, 0))
        for b in program.compiled.badges.values()
    ]


def tiers(store: Store, program_key: str) -> list[TierInfo]:
    """The active version's tiers, lowest first, with how many members are in each."""
    with store.read() as uow:
        program = active(uow, program_key)
        counts = uow.members.tier_counts(program.id)
    return [
        TierInfo(t.key, t.name, t.min_points, dict(t.benefits), counts.get(t.key, 0))
        for t in program.compiled.tiers
    ]


def table(store: Store, program_key: str, limit: int | None = 20) -> list[MemberRow]:
    """Members by lifetime points, with their badges: the summary an owner looks at first."""
    with store.read() as uow:
        program = active(uow, program_key)
        held = uow.ledger.badge_holders(program.id)
        return [
            MemberRow(
                r.external_id,
                r.team,
                r.company,
                int(r.lifetime),
                int(r.balance),
                r.tier,
                held.get(r.external_id, []),
            )
            for r in uow.members.member_rows(program.id, limit)
        ]


def count(store: Store, program_key: str) -> int:
    with store.read() as uow:
        return uow.members.count_members(active(uow, program_key).id)


@dataclass(frozen=True, slots=True)
class _Member:
    id: int
    external_id: str
    team: str | None
    company: str | None
    attributes: dict[str, Any] | None
    lifetime: int
    balance: int
    tier: str | None
    progress: str

    @property
    def state(self) -> MemberState:
        return MemberState.restore(
            self.external_id,
            team=self.team,
            company=self.company,
            attributes=dict(self.attributes or {}),
            lifetime=self.lifetime,
            balance=self.balance,
            tier=self.tier,
            progress=self.progress,
        )


def _streaks(program: CompiledProgram, state: MemberState, now: int) -> list[StreakStatus]:
    """The active version's streaks, as of now: a run missed since shows broken."""
    return [
        streak_status(s, state.streaks.get(s.key, []), now, program.zone)
        for s in program.definition.streaks
    ]


def member_id(uow: UnitOfWork, program: ActiveProgram, member: str | None) -> int | None:
    """The row id of ``member`` (None for None); NotFound for a member the program lacks."""
    if member is None:
        return None
    row = uow.members.member(program.id, member)
    if row is None:
        raise NotFound(f"no member '{member}' in program '{program.compiled.key}'", field="member")
    return int(row.id)


def program_and_member(
    uow: UnitOfWork, program_key: str, member: str
) -> tuple[ActiveProgram, _Member]:
    """The active program and the member's row, in one query; NotFound for a member who
    never earned a state (no row, or only a row a rejected event left)."""
    program, found = active_with_member(uow, program_key, member)
    row = member_of(found)
    if row is None:
        raise NotFound(f"no member '{member}' in program '{program_key}'", field="member")
    return program, row


def member_of(found: Any) -> _Member | None:
    """The member in a row of ``active_with_member``; None for one who never earned a state
    (no row, or only a row a rejected event left)."""
    if found.member_progress is None:
        return None
    return _Member(
        found.member_id,
        found.member_external_id,
        found.member_team,
        found.member_company,
        found.member_attributes,
        found.member_lifetime,
        found.member_balance,
        found.member_tier,
        found.member_progress,
    )


def _line(r: Any) -> EntryLine:
    return EntryLine(
        id=int(r.id),
        event_id=r.event_ref,
        event_type=r.event_type,
        occurred_at=r.occurred_at,
        kind=r.kind,
        rule=r.rule,
        period=r.period,
        points=int(r.points),
        lifetime_points=int(r.lifetime_points),
        version=int(r.program_version),
        reason=r.reason,
    )
