"""Rewards, the catalogue members redeem points for, as the engine sees them: who may redeem
one, whether they can now and why not, and the calendar period a per-member limit counts in.
Stock, codes and balances are the store's (they are shared between members, so they are
counted where the rows are locked). What a quest or challenge gives is a prize
(engine/prizes.py)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from accolade.engine.experiments import withheld_by
from accolade.engine.state import MemberState
from accolade.engine.tiers import tier_of
from accolade.engine.windows import calendar_window
from accolade.program.compiled import CompiledProgram, CompiledReward


def why_not(
    program: CompiledProgram, item: CompiledReward, state: MemberState, now: int
) -> str | None:
    """None when the member may redeem ``item`` at ``now`` (its tiers, stages and segment, and
    no experiment withholding it from them); otherwise the reason, in words a member can act on."""
    tier = tier_of(program, state.tier)
    if item.tiers and tier not in item.tiers:
        names = [t.name for t in program.tiers if t.key in item.tiers]
        return f"only for the {_either(names)} tier"
    if item.stages and state.stage not in item.stages:
        names = [s.name for s in program.stages if s.key in item.stages]
        return f"only for members in the {_either(names)} stage"
    failed = [c.describe for c in item.segment if not c.check({}, state.attributes)]
    if failed:
        return "only for members with " + " and ".join(failed)
    if program.experiments_covering:
        experiment = withheld_by(program, state, f"reward:{item.key}", now)
        if experiment is not None:
            return f"not offered to the control group of experiment '{experiment.key}'"
    return None


def blocked(item: CompiledReward, left: int | None, redeemed: int, spendable: int) -> str | None:
    """None when an item the member is eligible for can be redeemed now; otherwise why not:
    out of stock (``left`` of it; None: no stock kept), the member's limit (``redeemed`` in
    the current period), or too few spendable points."""
    if left == 0:
        return "out of stock"
    if item.limit is not None and redeemed >= item.limit.count:
        return limit_text(item)
    if spendable < item.price:
        return f"needs {item.price:,} points; {max(0, spendable):,} can be spent now"
    return None


def limit_text(item: CompiledReward) -> str:
    """The item's per-member limit, reached, in words."""
    assert item.limit is not None
    times = "once" if item.limit.count == 1 else f"{item.limit.count} times"
    per = "" if item.limit.per == "ever" else f" per {item.limit.per}"
    return f"limit reached: {times}{per} per member"


def limit_since(item: CompiledReward, now: int, zone: ZoneInfo) -> int | None:
    """Epoch seconds from which the member's earlier redemptions count against the item's
    limit: the start of the current calendar period in the program's zone; 0 for a limit
    over all time; None when the item has no limit."""
    if item.limit is None:
        return None
    if item.limit.per == "ever":
        return 0
    return calendar_window(now, item.limit.per, zone)[0]


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
