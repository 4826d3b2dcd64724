"""A member's derived state: what the engine needs to evaluate their next event."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic_core import to_json


def compact_json(value: object) -> str:
    """JSON without spaces; pydantic-core's serializer, ~4x json.dumps on member states
    (every changed member is saved once per ingested chunk)."""
    return to_json(value).decode()


BadgeKey = tuple[str, str]  # (badge key, period label; "" for once-only badges)
# the containers a successor shares with the state it follows until it changes one
SharedPart = Literal[
    "badges",
    "occurrences",
    "monthly_points",
    "quest_steps",
    "quests_done",
    "challenges",
    "streaks",
    "stages_entered",
    "arms",
    "assessments",
]


@dataclass(slots=True)
class MemberState:
    member: str
    team: str | None = None
    company: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    lifetime: int = 0
    balance: int = 0
    tier: str | None = None
    # (badge, period) -> id of the event that earned it
    badges: dict[BadgeKey, str] = field(default_factory=dict)
    # action key -> sorted epoch seconds of its rewarded occurrences (caps, cooldowns, badges)
    occurrences: dict[str, list[int]] = field(default_factory=dict)
    # "YYYY-MM" in the program's zone -> lifetime points earned that month (periods, qualification)
    monthly_points: dict[str, int] = field(default_factory=dict)
    # quest key -> step key -> epoch seconds of the event that completed the step
    quest_steps: dict[str, dict[str, int]] = field(default_factory=dict)
    # quest key -> epoch seconds of the event that completed the quest
    quests_done: dict[str, int] = field(default_factory=dict)
    # challenge key -> [progress, time of its last increase, time the goal was reached or
    # None, time the reward was won or None] (epoch seconds)
    challenges: dict[str, list[Any]] = field(default_factory=dict)
    # streak key -> sorted period numbers (see engine.streaks) with a rewarded occurrence of
    # its action: the whole streak (runs, freezes, milestones) is derived from these
    streaks: dict[str, list[int]] = field(default_factory=dict)
    # the lifecycle stage the member is in, and when (epoch seconds) they entered each stage
    stage: str | None = None
    stages_entered: dict[str, int] = field(default_factory=dict)
    # experiment key -> "treatment" or "control": given once, at the member's first event in
    # the experiment's window, and kept whatever a later version says (engine.experiments)
    arms: dict[str, str] = field(default_factory=dict)
    # assessment key -> {"started": epoch seconds, "answers": {question: answer},
    # "completed": epoch seconds or None} (engine.assessments); a lead's, mostly
    assessments: dict[str, dict[str, Any]] = field(default_factory=dict)

    def successor(self) -> MemberState:
        """The next state, sharing this one's containers: whoever changes one of them in the
        successor calls ``own`` first, so this state never changes."""
        return MemberState(
            self.member,
            self.team,
            self.company,
            self.attributes,
            self.lifetime,
            self.balance,
            self.tier,
            self.badges,
            self.occurrences,
            self.monthly_points,
            self.quest_steps,
            self.quests_done,
            self.challenges,
            self.streaks,
            self.stage,
            self.stages_entered,
            self.arms,
            self.assessments,
        )

    def own(self, before: MemberState, part: SharedPart) -> None:
        """Copy on write, the one way: before changing ``part`` (a dict this successor of
        ``before`` may still share with it), give this state its own copy; once it has one,
        nothing. Every change to a container of a successor goes through here, so ``before``
        never changes (tests/unit/test_properties.py checks it on random streams)."""
        shared = getattr(before, part)
        if getattr(self, part) is shared:
            setattr(self, part, dict(shared))

    def progress_json(self) -> str:
        """The part of the state that has no column of its own, as stored JSON."""
        data: dict[str, object] = {
            "badges": [[b, p, e] for (b, p), e in self.badges.items()],
            "occurrences": self.occurrences,
            "monthly_points": self.monthly_points,
        }
        if self.quest_steps:  # only members on a quest carry these keys
            data["quest_steps"] = self.quest_steps
            data["quests_done"] = self.quests_done
        if self.challenges:
            data["challenges"] = self.challenges
        if self.streaks:  # programs without streaks store what they stored before
            data["streaks"] = self.streaks
        if self.stage is not None:
            data["stage"] = self.stage
            data["stages_entered"] = self.stages_entered
        if self.arms:  # members outside experiments store what they stored before
            data["arms"] = self.arms
        if self.assessments:
            data["assessments"] = self.assessments
        return compact_json(data)

    @classmethod
    def restore(
        cls,
        member: str,
        *,
        team: str | None,
        company: str | None,
        attributes: dict[str, Any],
        lifetime: int,
        balance: int,
        tier: str | None,
        progress: str | None,
    ) -> MemberState:
        data = json.loads(progress) if progress else {}
        return cls(
            member=member,
            team=team,
            company=company,
            attributes=attributes,
            lifetime=lifetime,
            balance=balance,
            tier=tier,
            badges={(b, p): e for b, p, e in data.get("badges", [])},
            occurrences=data.get("occurrences", {}),
            monthly_points=data.get("monthly_points", {}),
            quest_steps=data.get("quest_steps", {}),
            quests_done=data.get("quests_done", {}),
            challenges=data.get("challenges", {}),
            streaks=data.get("streaks", {}),
            stage=data.get("stage"),
            stages_entered=data.get("stages_entered", {}),
            arms=data.get("arms", {}),
            assessments=data.get("assessments", {}),
        )
