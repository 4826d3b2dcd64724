"""Quests: guided journeys of steps, each done by an action, with a reward at the end.

A step is done by the first event whose action matches it (its conditions held, whether or not a
limit stopped the action's own points) and whose step conditions hold. One event does at most one
step of a quest; an ordered quest takes only its next step. Steps follow the order events arrive
in, so replay and reversal (which re-evaluate in that order) give the same progress.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accolade.engine.badges import grant_badge
from accolade.engine.effects import Entry, EntryKind
from accolade.engine.experiments import withheld_by, withhold
from accolade.engine.prizes import PrizeView, prize_view
from accolade.engine.state import MemberState
from accolade.program.compiled import CompiledProgram, CompiledQuest, CompiledStep


def advance_quests(
    program: CompiledProgram,
    before: MemberState,
    state: MemberState,
    event_id: str,
    ts: int,
    props: Mapping[str, Any],
    attrs: Mapping[str, Any],
    matched: list[str],
    entries: list[Entry],
) -> int:
    """Steps (and quests) ``matched`` actions complete; their entries are appended. Returns the
    points they add, for the caller to book (lifetime, balance, month)."""
    quests: dict[str, CompiledQuest] = {}
    for action in matched:
        for quest in program.quests_by_action.get(action, ()):
            quests[quest.key] = quest
    added = 0
    version = program.version
    for quest in quests.values():
        if quest.key in state.quests_done or not is_unlocked(program, quest, state):
            continue
        if quest.stages and state.stage not in quest.stages:
            continue
        done = state.quest_steps.get(quest.key, {})
        if quest.time_limit is not None and done and ts > min(done.values()) + quest.time_limit:
            continue  # expired: the time limit runs from the first step
        step = _step_done_by(quest, done, matched, props, attrs)
        if step is None:
            continue
        if program.experiments_covering:
            experiment = withheld_by(program, state, quest.rule, ts)
            if experiment is not None:
                what = f"quest '{quest.key}' does not count step '{step.key}'"
                withhold(program, experiment, quest.rule, what, event_id, entries)
                continue
        state.own(before, "quest_steps")
        state.quest_steps[quest.key] = {**done, step.key: ts}
        number = next(i for i, s in enumerate(quest.steps, 1) if s is step)
        entries.append(
            Entry(
                event_id,
                EntryKind.QUEST,
                quest.rule,
                step.points,
                step.points,
                f"{quest.name}: {step.name} (step {number} of {len(quest.steps)})",
                version,
                step.key,
            )
        )
        added += step.points
        if step.badge is not None:
            why = f"quest: {quest.name}"
            added += grant_badge(program, before, state, step.badge, event_id, ts, why, entries)
        if len(state.quest_steps[quest.key]) == len(quest.steps):
            added += _complete(program, quest, before, state, event_id, ts, entries)
    return added


def is_unlocked(program: CompiledProgram, quest: CompiledQuest, state: MemberState) -> bool:
    """The quest's requirements are met: the quests it needs are done, the tier is reached."""
    if any(q not in state.quests_done for q in quest.requires_quests):
        return False
    if quest.requires_tier is None:
        return True
    # a tier a later version no longer has ranks lowest (the member's tier is fixed after)
    rank = {t.key: i for i, t in enumerate(program.tiers)}
    return rank.get(state.tier or "", 0) >= rank.get(quest.requires_tier, 0)


def _step_done_by(
    quest: CompiledQuest,
    done: Mapping[str, int],
    matched: list[str],
    props: Mapping[str, Any],
    attrs: Mapping[str, Any],
) -> CompiledStep | None:
    for step in quest.steps:
        if step.key in done:
            continue
        if step.action in matched and all(c.check(props, attrs) for c in step.conditions):
            return step
        if quest.ordered:
            return None  # only the next step counts
    return None


def _complete(
    program: CompiledProgram,
    quest: CompiledQuest,
    before: MemberState,
    state: MemberState,
    event_id: str,
    ts: int,
    entries: list[Entry],
) -> int:
    state.own(before, "quests_done")
    state.quests_done[quest.key] = ts
    reason = f"{quest.name} completed"
    if quest.entitlements:
        granted = ", ".join(f"{k}: {v}" for k, v in quest.entitlements.items())
        reason += f"; entitles to {granted}"
    entries.append(
        Entry(
            event_id,
            EntryKind.QUEST,
            quest.rule,
            quest.reward_points,
            quest.reward_points,
            reason,
            program.version,
        )
    )
    added = quest.reward_points
    if quest.reward_badge is not None:
        why = f"quest: {quest.name}"
        added += grant_badge(program, before, state, quest.reward_badge, event_id, ts, why, entries)
    return added


@dataclass(frozen=True, slots=True)
class NextStep:
    key: str
    name: str
    description: str | None


@dataclass(frozen=True, slots=True)
class StepProgress:
    key: str
    name: str
    points: int
    done: bool
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class QuestProgress:
    """A quest as its member sees it: a progress bar, the next step, what the end unlocks."""

    key: str
    name: str
    description: str | None
    status: str  # locked | available | in_progress | completed | expired
    done: int
    total: int
    percent: int
    next_step: NextStep | None
    steps: list[StepProgress]
    unlocks: PrizeView  # what completing the quest gives
    started_at: datetime | None
    completed_at: datetime | None
    expires_at: datetime | None


def quest_progress(program: CompiledProgram, state: MemberState, now: int) -> list[QuestProgress]:
    """Every quest the member may see, as of ``now``: hidden quests only once unlocked."""
    out: list[QuestProgress] = []
    for quest in program.quests.values():
        done = state.quest_steps.get(quest.key, {})
        unlocked = is_unlocked(program, quest, state)
        if quest.hidden and not unlocked and not done:
            continue
        started = min(done.values()) if done else None
        completed = state.quests_done.get(quest.key)
        expires = (
            started + quest.time_limit
            if started is not None and quest.time_limit is not None
            else None
        )
        if completed is not None:
            status = "completed"
        elif expires is not None and now > expires:
            status = "expired"
        elif not unlocked:
            status = "locked"
        else:
            status = "in_progress" if done else "available"
        upcoming = next((s for s in quest.steps if s.key not in done), None)
        out.append(
            QuestProgress(
                key=quest.key,
                name=quest.name,
                description=quest.description,
                status=status,
                done=len(done),
                total=len(quest.steps),
                percent=len(done) * 100 // len(quest.steps),
                next_step=NextStep(upcoming.key, upcoming.name, upcoming.description)
                if upcoming is not None and status in ("available", "in_progress")
                else None,
                steps=[
                    StepProgress(s.key, s.name, s.points, s.key in done, _utc(done.get(s.key)))
                    for s in quest.steps
                ],
                unlocks=prize_view(
                    program, quest.reward_points, quest.reward_badge, quest.entitlements
                ),
                started_at=_utc(started),
                completed_at=_utc(completed),
                expires_at=_utc(expires) if completed is None else None,
            )
        )
    return out


def _utc(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)
