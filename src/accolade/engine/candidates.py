"""Next best action candidates: everything a member is eligible for at a moment, each with its
value to the program and the rule that made it eligible. Pure: the service scores and ranks
them (service/recommend.py); what needs shared rows (stock, reference asks) is the service's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from accolade.engine.challenges import PROGRESS, REACHED, WON, describe_goal, in_segment
from accolade.engine.points import limit_reached
from accolade.engine.quests import is_unlocked
from accolade.engine.rewards import why_not
from accolade.engine.state import MemberState
from accolade.engine.streaks import streak_status
from accolade.engine.tiers import qualifying_points, tier_of
from accolade.program.compiled import (
    REFERENCE_EVENTS,
    REFERRAL_EVENTS,
    CompiledAction,
    CompiledProgram,
    CompiledQuest,
)

# A tier is a candidate when the points it still needs are at most this share of its threshold.
TIER_REACH = 0.25
DAY = 86_400


@dataclass(frozen=True, slots=True)
class Candidate:
    """Something the member can do next. ``key`` is unique in a member's list
    (``challenge:KEY``, ``quest:KEY:STEP``, ``action:KEY``...); ``action`` is the action whose
    rewarded occurrence completes or advances it (None: none does alone); ``value`` is what it
    is worth to the program, in points; ``reason`` the rule that made it eligible, in words."""

    kind: str  # action | referral | ask | quest | challenge | streak | tier | reward
    key: str
    name: str
    action: str | None
    value: int
    reason: str
    until: int | None = None  # epoch seconds the candidate stays open until, when it closes
    triggered_by: str | None = None  # a trigger that surfaced it: "after <action> on <date>"


def candidates(program: CompiledProgram, state: MemberState, now: int) -> list[Candidate]:
    """Every candidate open to the member at ``now`` (epoch seconds), in a stable order."""
    out = [
        *_challenges(program, state, now),
        *_quest_steps(program, state, now),
        *_streaks(program, state, now),
        *_tier(program, state, now),
        *_rewards(program, state, now),
        *_actions(program, state, now),
    ]
    return _surface(program, state, now, out)


def action_value(action: CompiledAction) -> int:
    """Points an occurrence of ``action`` earns before multipliers (one unit of a property)."""
    if action.points_property is not None:
        return action.points_max if action.points_max is not None else action.points_each
    return action.points


def _challenges(program: CompiledProgram, state: MemberState, now: int) -> list[Candidate]:
    tier = tier_of(program, state.tier)
    out = []
    for c in program.challenges.values():
        if not c.starts <= now < c.ends or not in_segment(c, state.attributes, tier, state.stage):
            continue
        record = state.challenges.get(c.key)
        if record is not None and (record[WON] is not None or record[REACHED] is not None):
            continue  # won, or reached and waiting for the close
        progress = record[PROGRESS] if record else 0
        ends = datetime.fromtimestamp(c.ends - 1, program.zone).date().isoformat()  # last day
        reason = f"challenge open through {ends}: {describe_goal(c)}"
        if progress:
            reason += f" ({progress:g} so far)"
        if c.segment or c.tiers or c.stages:
            reason += "; you are in its segment"
        out.append(
            Candidate(
                "challenge",
                f"challenge:{c.key}",
                c.name,
                c.goal_action,
                c.reward_points,
                reason,
                until=c.ends,
            )
        )
    return out


def _quest_steps(program: CompiledProgram, state: MemberState, now: int) -> list[Candidate]:
    out = []
    for quest in program.quests.values():
        if not _quest_open(program, quest, state, now):
            continue
        done = state.quest_steps.get(quest.key, {})
        left = [s for s in quest.steps if s.key not in done]
        for step in left[:1] if quest.ordered else left:
            number = quest.steps.index(step) + 1
            last = len(left) == 1
            value = step.points + (quest.reward_points if last else 0)
            reason = f"next step of quest {quest.name} (step {number} of {len(quest.steps)})"
            if last:
                reason += "; it completes the quest"
            out.append(
                Candidate(
                    "quest",
                    f"quest:{quest.key}:{step.key}",
                    f"{quest.name}: {step.name}",
                    step.action,
                    value,
                    reason,
                    until=min(done.values()) + quest.time_limit
                    if done and quest.time_limit is not None
                    else None,
                )
            )
    return out


def _quest_open(
    program: CompiledProgram, quest: CompiledQuest, state: MemberState, now: int
) -> bool:
    if quest.key in state.quests_done or not is_unlocked(program, quest, state):
        return False
    if quest.stages and state.stage not in quest.stages:
        return False
    done = state.quest_steps.get(quest.key, {})
    return not (
        quest.time_limit is not None and done and now > min(done.values()) + quest.time_limit
    )


def _streaks(program: CompiledProgram, state: MemberState, now: int) -> list[Candidate]:
    out = []
    for streak in program.definition.streaks:
        status = streak_status(streak, state.streaks.get(streak.key, []), now, program.zone)
        if status.current == 0 or status.done:
            continue  # nothing at risk: no run alive, or this period is already done
        action = program.actions.get(streak.action)
        milestone = next((m for m in streak.milestones if m.length == status.current + 1), None)
        value = (action_value(action) if action else 0) + (milestone.points if milestone else 0)
        out.append(
            Candidate(
                "streak",
                f"streak:{streak.key}",
                streak.name,
                streak.action,
                value,
                f"streak at risk: a run of {status.current} {streak.period}"
                f"{'s' if status.current != 1 else ''} ends unless you do it this {streak.period}",
            )
        )
    return out


def _tier(program: CompiledProgram, state: MemberState, now: int) -> list[Candidate]:
    points = qualifying_points(program, state, now)
    upcoming = next((t for t in program.tiers if t.min_points > points), None)
    if upcoming is None:
        return []
    needed = upcoming.min_points - points
    if needed > upcoming.min_points * TIER_REACH:
        return []
    return [
        Candidate(
            "tier",
            f"tier:{upcoming.key}",
            f"Reach {upcoming.name}",
            None,
            needed,
            f"{needed:,} points to {upcoming.name} ({upcoming.min_points:,} needed)",
        )
    ]


def _rewards(program: CompiledProgram, state: MemberState, now: int) -> list[Candidate]:
    out = []
    for item in program.rewards.values():
        if why_not(program, item, state, now) is not None or state.balance < item.price:
            continue
        out.append(
            Candidate(
                "reward",
                f"reward:{item.key}",
                f"Redeem {item.name}",
                None,
                item.price,
                f"within reach: {item.price:,} points, you hold {state.balance:,}",
            )
        )
    return out


def _actions(program: CompiledProgram, state: MemberState, now: int) -> list[Candidate]:
    # the names a member reads, as badges' criteria name actions (engine/badges.py)
    names = {a.key: a.name or a.key.replace("_", " ") for a in program.definition.actions}
    out = []
    for action in program.actions.values():
        if action.stages and state.stage not in action.stages:
            continue
        if limit_reached(program, action, state.occurrences.get(action.key, []), now) is not None:
            continue
        if action.event_type in REFERRAL_EVENTS:
            kind, reason = "referral", f"a referral ask: {action.event_type} earns points"
        elif action.event_type in REFERENCE_EVENTS:
            kind, reason = "ask", f"a reference ask: {action.event_type} earns points"
        else:
            kind, reason = "action", f"{names.get(action.key, action.key)} earns points"
        if action.points_property is not None:
            reason += f" by its {action.points_property.replace('_', ' ')}"
            if action.points_max is not None:
                reason += f", up to {action.points_max:,}"
        if action.limited:
            reason += f"; {action.cap_text or 'its limit'} not reached"
        name = names.get(action.key, action.key)
        value = action_value(action)
        out.append(Candidate(kind, f"action:{action.key}", name, action.key, value, reason))
    return out


def _surface(
    program: CompiledProgram, state: MemberState, now: int, found: list[Candidate]
) -> list[Candidate]:
    """Marks candidates a trigger surfaces: the latest rewarded occurrence of the trigger's
    action is at most ``for_days`` old. A candidate the member is not eligible for stays out."""
    section = program.definition.recommendations
    if section is None or not section.triggers:
        return found
    surfaced: dict[str, str] = {}
    for trigger in section.triggers:
        times = state.occurrences.get(trigger.after, [])
        if times and now - times[-1] <= trigger.for_days * DAY and times[-1] <= now:
            day = datetime.fromtimestamp(times[-1], UTC).date().isoformat()
            surfaced.setdefault(trigger.surface, f"after {trigger.after} on {day}")
    out = []
    for c in found:
        prefix = c.key if c.kind != "quest" else c.key.rsplit(":", 1)[0]
        why = surfaced.get(c.key) or surfaced.get(prefix)
        out.append(c if why is None else _with_trigger(c, why))
    return out


def _with_trigger(c: Candidate, why: str) -> Candidate:
    return Candidate(c.kind, c.key, c.name, c.action, c.value, c.reason, c.until, why)
