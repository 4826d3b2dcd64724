"""Challenges: a goal inside a time window, for a segment of members, with a reward.

Progress counts events whose own time (``occurred_at``) falls in the window, from members in the
segment at that moment (their attributes and tier as the event found them). Rewarded to
everyone when they reach the goal; or, when the window has closed, to the first N to reach it
or the top N by progress: the close sends each winner a ``challenge.won`` event, which this
module pays like any other, so replay and reversal keep the winners as the close fixed them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accolade.engine.badges import grant_badge
from accolade.engine.effects import Entry, EntryKind
from accolade.engine.experiments import withheld_by, withhold
from accolade.engine.prizes import PrizeView, prize_view
from accolade.engine.state import MemberState
from accolade.engine.tiers import tier_of
from accolade.errors import InvalidEvent
from accolade.program.compiled import CHALLENGE_WON, CompiledChallenge, CompiledProgram

__all__ = [
    "CHALLENGE_WON",
    "LAST",
    "PROGRESS",
    "REACHED",
    "WON",
    "ChallengeProgress",
    "advance_challenges",
    "challenge_progress",
    "describe_goal",
    "in_segment",
    "win_challenge",
    "won",
]

# positions in a member's challenge record (MemberState.challenges)
PROGRESS, LAST, REACHED, WON = range(4)


def in_segment(
    challenge: CompiledChallenge,
    attrs: Mapping[str, Any],
    tier: str | None,
    stage: str | None = None,
) -> bool:
    if challenge.tiers and tier not in challenge.tiers:
        return False
    if challenge.stages and stage not in challenge.stages:
        return False
    return all(c.check({}, attrs) for c in challenge.segment)


def advance_challenges(
    program: CompiledProgram,
    before: MemberState,
    state: MemberState,
    event_id: str,
    ts: int,
    props: Mapping[str, Any],
    rewarded: list[str],
    earned: int,
    entries: list[Entry],
) -> int:
    """Progress this event makes on open challenges; rewards of goals reached (award to
    everyone) are appended. Returns the points they add."""
    candidates = [c for key in rewarded for c in program.challenges_by_action.get(key, ())]
    if earned:
        candidates += program.points_challenges
    added = 0
    tier = tier_of(program, state.tier)
    for challenge in candidates:
        if not challenge.starts <= ts < challenge.ends:
            continue
        if not in_segment(challenge, state.attributes, tier, state.stage):
            continue
        step = _increase(challenge, props, earned)
        if not step:
            continue
        if program.experiments_covering:
            experiment = withheld_by(program, state, challenge.rule, ts)
            if experiment is not None:
                what = f"challenge '{challenge.key}' does not count this event"
                withhold(program, experiment, challenge.rule, what, event_id, entries)
                continue
        state.own(before, "challenges")
        record = list(state.challenges.get(challenge.key, [0, 0, None, None]))
        record[PROGRESS] += step
        record[LAST] = max(record[LAST], ts)
        if record[REACHED] is None and _reaches(record[PROGRESS], challenge.target):
            # when the goal was reached in event time: the latest of the events that count
            # (a late event that tips it over does not make it earlier)
            record[REACHED] = record[LAST]
            if challenge.first is None and challenge.top is None:
                record[WON] = ts
                added += _pay(
                    program, before, state, challenge, event_id, ts, "goal reached", entries
                )
        state.challenges[challenge.key] = record
    return added


def win_challenge(
    program: CompiledProgram,
    before: MemberState,
    state: MemberState,
    event_id: str,
    ts: int,
    props: Mapping[str, Any],
    entries: list[Entry],
) -> int:
    """A ``challenge.won`` event from the close: pays the challenge's reward once."""
    key = props.get("challenge")
    challenge = program.challenges.get(key) if isinstance(key, str) else None
    if challenge is None:
        raise InvalidEvent(f"no challenge '{key}' in this program", field="properties.challenge")
    record = list(state.challenges.get(challenge.key, [0, 0, None, None]))
    if record[WON] is not None:
        return 0
    record[WON] = ts
    state.own(before, "challenges")
    state.challenges[challenge.key] = record
    rank = props.get("rank")
    why = f"{challenge.award}" + (f", rank {rank}" if isinstance(rank, int) else "")
    return _pay(program, before, state, challenge, event_id, ts, why, entries)


def won(program: CompiledProgram, state: MemberState) -> list[tuple[int, CompiledChallenge]]:
    """(when won, challenge) of every challenge the member won, oldest first."""
    out = [
        (int(r[WON]), program.challenges[key])
        for key, r in state.challenges.items()
        if r[WON] is not None and key in program.challenges
    ]
    return sorted(out, key=lambda pair: (pair[0], pair[1].key))


def _increase(challenge: CompiledChallenge, props: Mapping[str, Any], earned: int) -> float:
    if challenge.goal_action is None:
        return earned
    if challenge.goal_sum is None:
        return 1
    value = props.get(challenge.goal_sum)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return 0
    try:
        amount = float(value)
    except OverflowError:  # an integer past any float: counts as nothing, not as infinity
        return 0
    return value if math.isfinite(amount) and amount < _MAX_AMOUNT else 0


# Sums stay far from float overflow: one property value above this counts as nothing.
_MAX_AMOUNT = 1e15


def _reaches(progress: float, target: float) -> bool:
    """progress >= target, forgiving float rounding in sums (0.7 + 0.1 < 0.8)."""
    return progress >= target - 1e-9 * max(1.0, abs(target))


def _pay(
    program: CompiledProgram,
    before: MemberState,
    state: MemberState,
    challenge: CompiledChallenge,
    event_id: str,
    ts: int,
    why: str,
    entries: list[Entry],
) -> int:
    reason = f"{challenge.name}: {why}"
    if challenge.entitlements:
        reason += "; entitles to " + ", ".join(
            f"{k}: {v}" for k, v in challenge.entitlements.items()
        )
    points = challenge.reward_points
    entries.append(
        Entry(
            event_id, EntryKind.CHALLENGE, challenge.rule, points, points, reason, program.version
        )
    )
    if challenge.reward_badge is not None:
        points += grant_badge(
            program,
            before,
            state,
            challenge.reward_badge,
            event_id,
            ts,
            f"challenge: {challenge.name}",
            entries,
        )
    return points


@dataclass(frozen=True, slots=True)
class ChallengeProgress:
    """A challenge as its member sees it."""

    key: str
    name: str
    description: str | None
    status: str  # upcoming | open | closed
    starts_at: datetime
    ends_at: datetime
    goal: str
    progress: float
    target: float
    percent: int
    reached_at: datetime | None
    award: str  # everyone | first N | top N
    won: bool
    reward: PrizeView


def challenge_progress(
    program: CompiledProgram, state: MemberState, now: int
) -> list[ChallengeProgress]:
    """The challenges the member is in the segment of (as of now) or has made progress on."""
    tier = tier_of(program, state.tier)
    out: list[ChallengeProgress] = []
    for challenge in program.challenges.values():
        record = state.challenges.get(challenge.key)
        if record is None and not in_segment(challenge, state.attributes, tier, state.stage):
            continue
        progress = record[PROGRESS] if record else 0
        status = (
            "upcoming" if now < challenge.starts else "open" if now < challenge.ends else "closed"
        )
        out.append(
            ChallengeProgress(
                key=challenge.key,
                name=challenge.name,
                description=challenge.description,
                status=status,
                starts_at=datetime.fromtimestamp(challenge.starts, UTC),
                ends_at=datetime.fromtimestamp(challenge.ends, UTC),
                goal=describe_goal(challenge),
                progress=progress,
                target=challenge.target,
                percent=100
                if _reaches(progress, challenge.target)
                else int(100 * progress / challenge.target),
                reached_at=_utc(record[REACHED]) if record else None,
                award=challenge.award,
                won=bool(record and record[WON] is not None),
                reward=prize_view(
                    program, challenge.reward_points, challenge.reward_badge, challenge.entitlements
                ),
            )
        )
    return out


def describe_goal(challenge: CompiledChallenge) -> str:
    target = (
        f"{challenge.target:,.0f}" if challenge.target.is_integer() else f"{challenge.target:,}"
    )
    if challenge.goal_action is None:
        return f"earn {target} points"
    if challenge.goal_sum is not None:
        return f"{challenge.goal_sum} of {challenge.goal_action} adding up to {target}"
    return f"{challenge.goal_action} {target} time" + ("" if challenge.target == 1 else "s")


def _utc(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)
