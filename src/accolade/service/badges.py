"""Badges as a member sees them: the ones they earned (when, for which period) and the ones
still locked, each with how it is earned in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accolade.engine.badges import describe_badge
from accolade.service.members import program_and_member
from accolade.store.unit_of_work import Store


@dataclass(frozen=True)
class EarnedBadge:
    key: str
    name: str
    description: str | None
    period: str  # "" for a badge held for good; 2026, 2026-Q2, 2026-05 for a repeating one
    awarded_at: datetime
    points: int
    criteria: str


@dataclass(frozen=True)
class LockedBadge:
    key: str
    name: str
    description: str | None
    points: int
    criteria: str  # how it is earned, in words


@dataclass(frozen=True)
class MemberBadges:
    program: str  # the program's key
    program_name: str
    earned: list[EarnedBadge]  # newest first
    locked: list[LockedBadge]  # in the program's order


def member_badges(store: Store, program_key: str, member: str) -> MemberBadges:
    """The badges ``member`` holds and the active version's badges they do not hold yet. A
    badge a later version dropped still shows as earned, under its key when it has no name."""
    with store.read() as uow:
        program, row = program_and_member(uow, program_key, member)
        held = uow.ledger.badges_of(row.id)
    compiled = program.compiled
    badges = compiled.badges
    earned = [
        EarnedBadge(
            key=h.badge,
            name=badges[h.badge].name if h.badge in badges else h.badge,
            description=badges[h.badge].description if h.badge in badges else None,
            period=h.period,
            awarded_at=h.awarded_at,
            points=badges[h.badge].points if h.badge in badges else 0,
            criteria=describe_badge(compiled, badges[h.badge]) if h.badge in badges else "",
        )
        for h in held
    ]
    earned.sort(key=lambda b: (b.awarded_at, b.key, b.period), reverse=True)
    holding = {b.key for b in earned}
    locked = [
        LockedBadge(b.key, b.name, b.description, b.points, describe_badge(compiled, b))
        for b in badges.values()
        if b.key not in holding
    ]
    return MemberBadges(compiled.key, compiled.definition.name, earned, locked)
