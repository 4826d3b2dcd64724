"""evaluate(program, state, event) -> Evaluation: the whole rule pass for one event."""

from __future__ import annotations

import difflib
from functools import lru_cache
from typing import Any

from accolade.engine.assessments import advance_assessment
from accolade.engine.badges import award_badge, earned_period
from accolade.engine.bonus import draw_bonus
from accolade.engine.challenges import CHALLENGE_WON, advance_challenges, win_challenge
from accolade.engine.effects import Entry, EntryKind, Evaluation, Status
from accolade.engine.events import Event
from accolade.engine.experiments import assign_arms, withheld_by, withheld_reason
from accolade.engine.leaderboards import win_leaderboard, withhold_boards
from accolade.engine.points import (
    base_points,
    limit_reached,
    multiplied,
    record_occurrence,
    unmet_condition,
)
from accolade.engine.quests import advance_quests
from accolade.engine.stages import in_stages, move_stage
from accolade.engine.state import MemberState
from accolade.engine.streaks import record_streaks
from accolade.engine.tiers import qualifying_points, tier_for, tier_of, tier_reason
from accolade.engine.windows import month_key
from accolade.errors import InvalidEvent
from accolade.program.compiled import (
    ASSESSMENT_EVENTS,
    LEADERBOARD_WON,
    CompiledAction,
    CompiledProgram,
)

# Badge points can cross a points threshold that awards another badge; a program has
# finitely many badges, so this many passes always reaches a fixed point.
_MAX_BADGE_PASSES = 64


def evaluate(program: CompiledProgram, state: MemberState, event: Event) -> Evaluation:
    """Effects of ``event`` on a member in ``state``; ``state`` itself is left untouched.

    Raises InvalidEvent (naming the field) when the event cannot be evaluated; nothing changes.
    The pass, step by step: the actions the event matches earn points (or are limited), then
    the member's progress moves (stages, quests, challenges, boards' prizes), then the points
    are booked (streaks, badges, the tier, stages that follow points).
    """
    actions = _actions_for(program, event.type)
    ts = event.ts  # computed once: the datetime's timestamp() is not free
    # Copy on write: `new` shares the containers of `state` until it changes one of them.
    new = state.successor()
    new.team = event.team or new.team
    new.company = event.company or new.company
    if event.attributes:
        new.attributes = {**state.attributes, **event.attributes}
    entries: list[Entry] = []
    notes: list[str] = []
    if program.assessments and event.type in ASSESSMENT_EVENTS:
        advance_assessment(program, state, new, event, entries)
    if program.experiments:  # before any rule: the event's first rule already knows the arm
        assign_arms(program, state, new, event.id, ts, entries)
    rewarded, matched, earned, limited = _reward_actions(
        program, state, new, event, ts, actions, entries, notes
    )
    added, stepped = _advance(program, state, new, event, ts, rewarded, matched, earned, entries)
    _book(program, state, new, event.id, ts, rewarded, earned + added, stepped, entries)
    if program.experiments_covering and program.leaderboards:
        withhold_boards(program, new, event, entries)
    status = Status.LIMITED if limited and not (rewarded or stepped) else Status.ACCEPTED
    return Evaluation(status, tuple(entries), new, tuple(notes))


def _actions_for(program: CompiledProgram, event_type: str) -> tuple[CompiledAction, ...]:
    actions = program.actions_by_event.get(event_type)
    if actions is None:
        close = difflib.get_close_matches(event_type, program.event_types, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InvalidEvent(
            f"unknown event type '{event_type}' in program '{program.key}'{hint}", field="type"
        )
    return actions


def _reward_actions(
    program: CompiledProgram,
    state: MemberState,
    new: MemberState,
    event: Event,
    ts: int,
    actions: tuple[CompiledAction, ...],
    entries: list[Entry],
    notes: list[str],
) -> tuple[list[str], list[str], int, bool]:
    """Each action of the event type: its stages and conditions, its points (multiplied), its
    limits, its bonus draw. (rewarded actions, matched actions, points earned, limited)."""
    props = event.properties
    attrs = new.attributes
    version = program.version
    event_id = event.id
    tier_now = tier_of(program, new.tier)
    rewarded: list[str] = []
    matched: list[str] = []  # actions whose conditions held, limited or not (quest steps)
    earned = 0
    limited = False
    for action in actions:
        if action.stages and not in_stages(action.stages, new):
            notes.append(f"action '{action.key}' is for stages {', '.join(sorted(action.stages))}")
            continue
        if action.conditions:
            unmet = unmet_condition(action, props, attrs)
            if unmet is not None:
                notes.append(f"action '{action.key}' not matched: needs {unmet}")
                continue
        matched.append(action.key)
        points = base_points(action, props)
        how = ""
        if action.multipliers:
            points, how = multiplied(action, points, tier_now, props, attrs)
        if action.limited:
            limit = limit_reached(program, action, new.occurrences.get(action.key, []), ts)
            if limit is not None:
                entries.append(
                    Entry(event_id, EntryKind.LIMITED, action.rule, 0, 0, limit, version)
                )
                limited = True
                continue
        new.own(state, "occurrences")
        record_occurrence(new.occurrences, action.key, ts)
        rewarded.append(action.key)
        if program.experiments_covering:
            experiment = withheld_by(program, new, action.rule, ts)
            if experiment is not None:
                # it happened (caps, streaks and uncovered rules count it): it only pays nothing
                what = f"action '{action.key}' gives no points"
                reason = withheld_reason(experiment, what)
                entries.append(Entry(event_id, EntryKind.EARN, action.rule, 0, 0, reason, version))
                continue
        earned += points
        reason = _earn_reason(action, points, how, props)
        entries.append(
            Entry(event_id, EntryKind.EARN, action.rule, points, points, reason, version)
        )
        if action.bonus is not None:
            bonus = draw_bonus(action.bonus, program.hash, version, event_id)
            if bonus is not None:
                entries.append(bonus)
                earned += bonus.points
    return rewarded, matched, earned, limited


def _earn_reason(action: CompiledAction, points: int, how: str, props: dict[str, Any]) -> str:
    reason = f"{how} = {points:,}" if how else _points_reason(points)
    if action.points_property is not None:
        reason += (
            f" ({action.points_each} per {action.points_per} of {action.points_property}"
            f" {props[action.points_property]:,}"
            + (f", at most {action.points_max:,}" if action.points_max is not None else "")
            + ")"
        )
    return reason


def _advance(
    program: CompiledProgram,
    state: MemberState,
    new: MemberState,
    event: Event,
    ts: int,
    rewarded: list[str],
    matched: list[str],
    earned: int,
    entries: list[Entry],
) -> tuple[int, bool]:
    """The member's progress: the stage the event's own actions lead to (its quests and
    challenges see it), quest steps, challenges and boards' prizes. (Their points, whether a
    quest step or a challenge's reward was entered.)"""
    event_id, props = event.id, event.properties
    if program.stages:
        move_stage(program, state, new, event_id, ts, entries, rewarded)
    before = len(entries)
    added = 0
    if program.quests_by_action and matched:
        added += advance_quests(
            program, state, new, event_id, ts, props, new.attributes, matched, entries
        )
    if event.type == CHALLENGE_WON:
        added += win_challenge(program, state, new, event_id, ts, props, entries)
    elif event.type == LEADERBOARD_WON:
        added += win_leaderboard(program, state, new, event_id, ts, props, entries)
    elif program.challenges and (rewarded or earned + added):
        added += advance_challenges(
            program, state, new, event_id, ts, props, rewarded, earned + added, entries
        )
    return added, len(entries) > before


def _book(
    program: CompiledProgram,
    state: MemberState,
    new: MemberState,
    event_id: str,
    ts: int,
    rewarded: list[str],
    earned: int,
    stepped: bool,
    entries: list[Entry],
) -> None:
    """The points land: streaks (and their milestone points), lifetime and balance, badges
    (and theirs), the tier, and stages whose rules follow quests or lifetime points."""
    if earned or rewarded or stepped:
        new.own(state, "monthly_points")  # points, or badge points, land here
    if rewarded and program.streaks_by_action:
        earned += record_streaks(program, new, state, event_id, ts, rewarded, entries)
    if earned:
        _add_points(program, new, earned, ts)
    if rewarded or stepped:
        _award_badges(program, new, state, event_id, ts, rewarded, entries)
    _move_tier(program, new, event_id, ts, entries)
    if program.stages_after_points:  # again: rules on quests completed or lifetime points
        move_stage(program, state, new, event_id, ts, entries, rewarded)


@lru_cache(maxsize=4096)
def _points_reason(points: int) -> str:
    return f"{points:,} points"


def _add_points(program: CompiledProgram, state: MemberState, points: int, ts: int) -> None:
    state.lifetime += points
    state.balance += points
    month = month_key(ts, program.zone)
    state.monthly_points[month] = state.monthly_points.get(month, 0) + points


def _award_badges(
    program: CompiledProgram,
    state: MemberState,
    before: MemberState,
    event_id: str,
    ts: int,
    rewarded: list[str],
    entries: list[Entry],
) -> None:
    if len(rewarded) == 1:
        candidates = program.badges_on_reward.get(rewarded[0], program.points_badges)
    else:
        candidates = tuple(b for key in rewarded for b in program.badges_by_action.get(key, ()))
        candidates += program.points_badges
    for _ in range(_MAX_BADGE_PASSES):
        awarded_points = 0
        for badge in candidates:
            if badge.repeat == "once" and (badge.key, "") in state.badges:
                continue  # held for good: the common case, decided without a window lookup
            period = earned_period(program, badge, state, ts)
            if period is None:
                continue
            points = award_badge(program, before, state, badge, period, event_id, ts, entries)
            if points:
                _add_points(program, state, points, ts)
                awarded_points += points
        if not awarded_points or not program.points_badges:
            return
        candidates = program.points_badges


def _move_tier(
    program: CompiledProgram, state: MemberState, event_id: str, ts: int, entries: list[Entry]
) -> None:
    if not program.tiers:
        return
    points = qualifying_points(program, state, ts)
    tier = tier_for(program, points)
    assert tier is not None  # the first tier starts at 0 (checked when the program loads)
    if tier.key == state.tier:
        return
    reason = tier_reason(program, state.tier, tier, points)
    state.tier = tier.key
    entries.append(
        Entry(event_id, EntryKind.TIER, f"tier:{tier.key}", 0, 0, reason, program.version)
    )
