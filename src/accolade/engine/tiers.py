"""Tiers: on lifetime earned points, or on points earned in a qualification window."""

from __future__ import annotations

from accolade.engine.state import MemberState
from accolade.engine.windows import month_key, months_back
from accolade.program.compiled import CompiledProgram
from accolade.program.models import Tier


def entry_tier(program: CompiledProgram) -> str | None:
    """The tier every member starts in (the lowest, at 0 points); None without tiers."""
    return program.tiers[0].key if program.tiers else None


def tier_of(program: CompiledProgram, tier: str | None) -> str | None:
    """A member's tier: the one stored, or the entry tier for a member who has none yet."""
    return tier or entry_tier(program)


def qualifying_points(program: CompiledProgram, state: MemberState, ts: int) -> int:
    if program.qualification_months is None:
        return state.lifetime
    months = months_back(month_key(ts, program.zone), program.qualification_months)
    return sum(state.monthly_points.get(m, 0) for m in months)


def tier_for(program: CompiledProgram, points: int) -> Tier | None:
    found = None
    for tier in program.tiers:
        if points >= tier.min_points:
            found = tier
    return found


def tier_reason(program: CompiledProgram, before: str | None, after: Tier, points: int) -> str:
    basis = (
        f"{points:,} points earned in the last {program.qualification_months} months"
        if program.qualification_months
        else f"{points:,} lifetime points"
    )
    if before is None:
        return f"entered {after.name}: {basis}"
    ranks = {t.key: i for i, t in enumerate(program.tiers)}
    old = next((t for t in program.tiers if t.key == before), None)
    if old is not None and ranks[after.key] < ranks[old.key]:
        return f"back to {after.name}: {basis} < {old.name}'s {old.min_points:,}"
    return f"reached {after.name}: {basis} >= {after.min_points:,}"
