"""Lifecycle stages: trial, onboarding, activated, mature (or a program's own), each with the
rewards that fit it.

Members move forward only. After each event, the member enters the latest stage past their
current one whose entry rule holds at the event's time (skipping stages in between if a later
rule already holds); the transition is a ledger entry naming the rule that fired.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accolade.engine.effects import Entry, EntryKind
from accolade.engine.state import MemberState
from accolade.program.compiled import CompiledProgram, CompiledStage

_DAY = 86_400


def move_stage(
    program: CompiledProgram,
    before: MemberState,
    state: MemberState,
    event_id: str,
    ts: int,
    entries: list[Entry],
    rewarded: list[str],
) -> None:
    """Enter the latest stage whose rule now holds (the first stage if the member has none).

    A rule on an action alone can only start to hold when the event rewards that action (its
    window only shrinks as time passes), so only those and the rules that can change at any
    event are checked."""
    stages = program.stages
    current = program.stage_index.get(state.stage, -1) if state.stage is not None else -1
    if current == len(stages) - 1:
        return
    if current < 0 and not stages[0].has_rule:
        _enter(program, before, state, stages[0], event_id, ts, entries)
        current = 0
    for position in range(len(stages) - 1, current, -1):
        stage = stages[position]
        if not stage.any_event and stage.action not in rewarded:
            continue
        if holds(stage, state, ts):
            _enter(program, before, state, stage, event_id, ts, entries)
            return


def holds(stage: CompiledStage, state: MemberState, ts: int) -> bool:
    """Every part of the stage's entry rule holds for ``state`` at ``ts``."""
    if not stage.has_rule:
        return True
    if stage.action is not None:
        times = state.occurrences.get(stage.action, [])
        start = ts - stage.within + 1 if stage.within is not None else 0
        if bisect_right(times, ts) - bisect_left(times, start) < stage.count:
            return False
    if stage.conditions and not all(c.check({}, state.attributes) for c in stage.conditions):
        return False
    if stage.quest is not None and stage.quest not in state.quests_done:
        return False
    if stage.lifetime_points is not None and state.lifetime < stage.lifetime_points:
        return False
    if stage.after_stage is not None:
        entered = state.stages_entered.get(stage.after_stage)
        if entered is None or ts - entered < stage.after_days * _DAY:
            return False
    return True


def in_stages(stages: frozenset[str], state: MemberState) -> bool:
    """Whether a mechanic limited to ``stages`` (empty: no limit) applies to the member now."""
    return not stages or state.stage in stages


def _enter(
    program: CompiledProgram,
    before: MemberState,
    state: MemberState,
    stage: CompiledStage,
    event_id: str,
    ts: int,
    entries: list[Entry],
) -> None:
    state.stage = stage.key
    state.own(before, "stages_entered")
    state.stages_entered[stage.key] = ts
    entries.append(
        Entry(
            event_id,
            EntryKind.STAGE,
            f"stage:{stage.key}",
            0,
            0,
            f"entered {stage.name}: {stage.rule_text}",
            program.version,
        )
    )


@dataclass(frozen=True, slots=True)
class NextStage:
    key: str
    name: str
    how: str  # the entry rule in words


@dataclass(frozen=True, slots=True)
class StageView:
    """The member's lifecycle stage, what it gives and what comes next."""

    key: str
    name: str
    description: str | None
    entered_at: datetime
    entitlements: dict[str, Any]
    next_step: str | None
    next_stage: NextStage | None


def stage_view(program: CompiledProgram, state: MemberState) -> StageView | None:
    position = program.stage_index.get(state.stage, -1) if state.stage is not None else -1
    if position < 0:
        return None
    stage = program.stages[position]
    upcoming = program.stages[position + 1] if position + 1 < len(program.stages) else None
    return StageView(
        key=stage.key,
        name=stage.name,
        description=stage.description,
        entered_at=datetime.fromtimestamp(state.stages_entered.get(stage.key, 0), UTC),
        entitlements=dict(stage.entitlements),
        next_step=stage.next_step,
        next_stage=NextStage(upcoming.key, upcoming.name, upcoming.rule_text) if upcoming else None,
    )
