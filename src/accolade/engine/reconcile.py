"""Reversal: re-evaluate a member's history without the reversed events, then compensate.

The ledger stays append-only: the difference between what the ledger says and what the
history now earns becomes new entries, so the state is exactly as if the event never arrived.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from accolade.engine.effects import Entry, EntryKind, Evaluation, Status
from accolade.engine.evaluate import evaluate
from accolade.engine.events import Event
from accolade.engine.state import MemberState
from accolade.engine.tiers import entry_tier, qualifying_points, tier_reason
from accolade.errors import InvalidEvent
from accolade.program.compiled import CompiledProgram

# (event id, qualified rule, period) -> (points, lifetime points)
Totals = dict[tuple[str, str, str], tuple[int, int]]
_EVENT_RULES = (
    "action:",
    "badge:",
    "bonus:",
    "quest:",
    "challenge:",
    "streak:",
    "leaderboard:",
)


def totals_of(entries: Sequence[Entry]) -> Totals:
    """Point totals per (event, rule, period) of the entries that events produce."""
    totals: Totals = {}
    for e in entries:
        if e.rule.startswith(_EVENT_RULES) and (e.points or e.lifetime_points):
            key = (e.event_id, e.rule, e.period)
            p, lp = totals.get(key, (0, 0))
            totals[key] = (p + e.points, lp + e.lifetime_points)
    return totals


def reconcile(
    programs: Mapping[int, CompiledProgram],
    history: Sequence[tuple[Event, int]],
    current: MemberState,
    current_totals: Totals,
    reversed_event: str,
    reason: str,
    version: int,
    reversed_at: int = 0,
) -> Evaluation:
    """Compensating entries that bring ``current`` to the state ``history`` alone produces.

    ``history`` is the member's remaining events in arrival order with the program version
    each was evaluated under; ``version`` is the active version, recorded on the new entries;
    ``reversed_at`` is the reversed event's time (the qualification window's end if no event is left).
    """
    state, produced = _replay(programs, history, current)
    why = f"reversal of event {reversed_event}: {reason}"
    order = {event.id: i for i, (event, _) in enumerate(history)}
    entries = _compensations(
        totals_of(produced), current_totals, order, reversed_event, why, version
    )
    entries += _badge_changes(current, state, why, version)
    active = programs[version]
    last = history[-1][0].ts if history else reversed_at
    entries += _tier_and_stage_changes(active, current, state, reversed_event, why, version, last)
    # Spending is not an event effect: carry the balance over, moved only by the compensation.
    state.balance = current.balance + sum(e.points for e in entries)
    return Evaluation(Status.REVERSED, tuple(entries), state)


def _replay(
    programs: Mapping[int, CompiledProgram],
    history: Sequence[tuple[Event, int]],
    current: MemberState,
) -> tuple[MemberState, list[Entry]]:
    """The state and the entries ``history`` alone produces, each event under its version.
    Experiment arms are the exception: given once, they stay, even when the event that gave
    one is the one reversed (engine.experiments)."""
    state = MemberState(current.member, arms=dict(current.arms))
    produced: list[Entry] = []
    for event, event_version in history:
        try:
            evaluation = evaluate(programs[event_version], state, event)
        except InvalidEvent:
            # Without the reversed event, this one would have been refused (an assessment's
            # completion once a required answer is reversed): it counts as refused, as it
            # would have been had the reversed event never arrived.
            continue
        produced.extend(evaluation.entries)
        state = evaluation.state
    return state, produced


def _compensations(
    expected: Totals,
    current_totals: Totals,
    order: Mapping[str, int],
    reversed_event: str,
    why: str,
    version: int,
) -> list[Entry]:
    """An entry for each (event, rule, period) whose points differ from what the history now
    earns: the reversed event's own as a reversal, the others' as adjustments."""
    keys = sorted(
        set(expected) | {k for k in current_totals if k[1].startswith(_EVENT_RULES)},
        key=lambda k: (order.get(k[0], -1), k),
    )
    entries: list[Entry] = []
    for key in keys:
        want, want_life = expected.get(key, (0, 0))
        have, have_life = current_totals.get(key, (0, 0))
        if want == have and want_life == have_life:
            continue
        event_id, rule, period = key
        if event_id == reversed_event:
            kind, text = EntryKind.REVERSAL, why
        else:
            kind, text = EntryKind.ADJUSTMENT, f"re-evaluated after {why}"
        entries.append(
            Entry(event_id, kind, rule, want - have, want_life - have_life, text, version, period)
        )
    return entries


def _badge_changes(current: MemberState, state: MemberState, why: str, version: int) -> list[Entry]:
    """Badges held that the history no longer earns (revoked), and ones it now earns."""
    revoked = [
        Entry(
            e,
            EntryKind.BADGE_REVOKED,
            f"badge:{b}",
            0,
            0,
            f"no longer earned after {why}",
            version,
            p,
        )
        for (b, p), e in sorted(current.badges.items())
        if (b, p) not in state.badges
    ]
    earned = [
        Entry(
            e,
            EntryKind.BADGE,
            f"badge:{b}",
            0,
            0,
            f"earned on re-evaluation after {why}",
            version,
            p,
        )
        for (b, p), e in sorted(state.badges.items())
        if (b, p) not in current.badges
    ]
    return revoked + earned


def _tier_and_stage_changes(
    active: CompiledProgram,
    current: MemberState,
    state: MemberState,
    reversed_event: str,
    why: str,
    version: int,
    last: int,
) -> list[Entry]:
    """The tier and the stage the member moves back (or on) to, each with its entry; ``last``
    is the time qualification counts to."""
    entries: list[Entry] = []
    if state.tier is None:
        state.tier = entry_tier(active)  # no events left: the entry tier, as at 0 points
    new_tier = next((t for t in active.tiers if t.key == state.tier), None)
    if new_tier is not None and state.tier != current.tier:
        basis = tier_reason(active, current.tier, new_tier, qualifying_points(active, state, last))
        entries.append(
            Entry(
                reversed_event,
                EntryKind.TIER,
                f"tier:{new_tier.key}",
                0,
                0,
                f"{basis} ({why})",
                version,
            )
        )
    if state.stage != current.stage:  # a stage entered only thanks to the reversed event
        stage = next((s for s in active.stages if s.key == state.stage), None)
        entries.append(
            Entry(
                reversed_event,
                EntryKind.STAGE,
                f"stage:{state.stage}" if state.stage else "stage:",
                0,
                0,
                f"back to {stage.name if stage else 'no stage'} ({why})",
                version,
            )
        )
    return entries
