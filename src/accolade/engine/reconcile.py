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
from accolade.engine.tiers import qualifying_points, tier_reason
from accolade.program.compile import CompiledProgram

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
    state = MemberState(current.member)
    produced: list[Entry] = []
    for event, event_version in history:
        evaluation = evaluate(programs[event_version], state, event)
        produced.extend(evaluation.entries)
        state = evaluation.state
    expected = totals_of(produced)
    order = {event.id: i for i, (event, _) in enumerate(history)}
    keys = sorted(
        set(expected) | {k for k in current_totals if k[1].startswith(_EVENT_RULES)},
        key=lambda k: (order.get(k[0], -1), k),
    )
    why = f"reversal of event {reversed_event}: {reason}"
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

    for (badge, period), event_id in sorted(current.badges.items()):
        if (badge, period) not in state.badges:
            entries.append(
                Entry(
                    event_id,
                    EntryKind.BADGE_REVOKED,
                    f"badge:{badge}",
                    0,
                    0,
                    f"no longer earned after {why}",
                    version,
                    period,
                )
            )
    for (badge, period), event_id in sorted(state.badges.items()):
        if (badge, period) not in current.badges:
            entries.append(
                Entry(
                    event_id,
                    EntryKind.BADGE,
                    f"badge:{badge}",
                    0,
                    0,
                    f"earned on re-evaluation after {why}",
                    version,
                    period,
                )
            )
    active = programs[version]
    if state.tier is None and active.tiers:
        state.tier = active.tiers[0].key  # no events left: the entry tier, as at 0 points
    new_tier = next((t for t in active.tiers if t.key == state.tier), None)
    if new_tier is not None and state.tier != current.tier:
        last = history[-1][0].ts if history else reversed_at
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
    # Spending is not an event effect: carry the balance over, moved only by the compensation.
    state.balance = current.balance + sum(e.points for e in entries)
    return Evaluation(Status.REVERSED, tuple(entries), state)
