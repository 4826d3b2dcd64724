"""Pydantic models of a program file: actions, conditions, limits, badges, tiers, streaks.

Structure only; cross-references (a badge naming an action) are checked in ``loader``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from accolade.program.analytics import Analytics, Pipeline
from accolade.program.assessments import (
    AnswerBand,
    AnswerOption,
    Assessment,
    AssessmentDimension,
    AssessmentSection,
    AssessmentSegment,
    CrmField,
    Question,
    ReadinessLevel,
    ResultField,
    SegmentRule,
)
from accolade.program.durations import CALENDAR_WINDOWS, Duration, date_or_time, parse_duration
from accolade.program.experiments import Experiment, ExperimentCovers
from accolade.program.integrations import (
    HubSpot,
    InboundRule,
    Integrations,
    Notice,
    Notices,
    Salesforce,
)
from accolade.program.recommendations import Recommendations, RecommendationTrigger

Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
EventType = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.:\-]*$", max_length=100)
]
Scalar = str | int | float | bool
RepeatPeriod = Literal["once", "yearly", "quarterly", "monthly"]

COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "exists")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Model):
    """One test on an event property or a member attribute, e.g. ``{property: duration, gte: 300}``."""

    property: str | None = Field(default=None, min_length=1)
    attribute: str | None = Field(default=None, min_length=1)
    eq: Scalar | None = None
    ne: Scalar | None = None
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    exists: bool | None = None

    @model_validator(mode="after")
    def _one_subject_one_test(self) -> Condition:
        if (self.property is None) == (self.attribute is None):
            raise ValueError("name exactly one of 'property' or 'attribute'")
        tests = [name for name in COMPARISONS if self.operand(name) is not None]
        if len(tests) != 1:
            raise ValueError(f"give exactly one test of {', '.join(COMPARISONS)}")
        return self

    def operand(self, name: str) -> Any:
        return getattr(self, "in_" if name == "in" else name)

    def test(self) -> str:
        return next(name for name in COMPARISONS if self.operand(name) is not None)

    def subject(self) -> str:
        return f"property {self.property}" if self.property else f"attribute {self.attribute}"


class PointsFromProperty(_Model):
    """Points derived from a numeric property: ``points`` for every ``per`` units, capped at ``max``."""

    property: str = Field(min_length=1)
    per: Decimal = Field(gt=0)
    points: int = Field(default=1, ge=1)
    max: int | None = Field(default=None, ge=1)


class Multiplier(_Model):
    """Multiplies an action's points for members of a tier and/or matching conditions."""

    factor: Decimal = Field(gt=0, le=100)
    tier: Key | None = None
    conditions: list[Condition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _targets_someone(self) -> Multiplier:
        if self.tier is None and not self.conditions:
            raise ValueError("give a 'tier' or 'conditions' (or both)")
        return self


class Cap(_Model):
    """At most ``count`` rewarded occurrences per calendar window or rolling duration."""

    count: int = Field(ge=1)
    per: str

    @field_validator("per")
    @classmethod
    def _window(cls, value: str) -> str:
        if value in CALENDAR_WINDOWS:
            return value
        try:
            parse_duration(value)
        except ValueError:
            raise ValueError(
                f"'{value}' is neither a calendar window ({', '.join(CALENDAR_WINDOWS)}) "
                "nor a duration such as 24h or 7d"
            ) from None
        return value


class Limits(_Model):
    """Guards against shallow activity; a limited event is recorded with 0 points."""

    once: bool = False
    lifetime_cap: int | None = Field(default=None, ge=1)
    cap: Cap | None = None
    cooldown: Duration | None = None


# Bonus weights are relative odds; a million to one is finer than any program needs.
MAX_BONUS_WEIGHT = 1_000_000


class BonusOutcome(_Model):
    """One outcome of an action's bonus draw: ``points`` with odds ``weight`` in the total weight."""

    weight: int = Field(ge=1, le=MAX_BONUS_WEIGHT)
    points: int = Field(ge=0)


class Action(_Model):
    """An event type (plus conditions) that earns points."""

    key: Key
    event: EventType | None = None
    name: str | None = None
    description: str | None = None
    points: int = Field(default=0, ge=0)
    points_from: PointsFromProperty | None = None
    conditions: list[Condition] = Field(default_factory=list)
    multipliers: list[Multiplier] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    # only members in one of these lifecycle stages earn it (empty: everyone)
    stages: list[str] = Field(default_factory=list, exclude_if=lambda v: not v)
    # Left out of dumps when absent, so the content hash of a program without a bonus is the
    # one it had before this key existed (republishing it is still "unchanged").
    bonus: list[BonusOutcome] | None = Field(default=None, exclude_if=lambda v: v is None)

    @property
    def event_type(self) -> str:
        return self.event or self.key

    @field_validator("bonus")
    @classmethod
    def _a_real_draw(cls, value: list[BonusOutcome] | None) -> list[BonusOutcome] | None:
        if value is None:
            return None
        if len(value) < 2:
            raise ValueError("give at least 2 outcomes (a fixed amount belongs in 'points')")
        if not any(outcome.points for outcome in value):
            raise ValueError("every outcome gives 0 points: the bonus would never pay")
        return value


class BadgeRule(_Model):
    """When a badge is earned: exactly one of ``action``, ``lifetime_points`` or ``all_of``."""

    action: str | None = None
    count: int = Field(default=1, ge=1)
    within: Duration | None = None
    lifetime_points: int | None = Field(default=None, ge=1)
    all_of: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> BadgeRule:
        kinds = [k for k in ("action", "lifetime_points", "all_of") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of 'action', 'lifetime_points' or 'all_of'")
        if self.action is None and ("count" in self.model_fields_set or self.within is not None):
            raise ValueError("'count' and 'within' apply only to an 'action' rule")
        return self


class Badge(_Model):
    key: Key
    name: str = Field(min_length=1)
    description: str | None = None
    image: str | None = None
    points: int = Field(default=0, ge=0)
    repeat: RepeatPeriod = "once"
    # None: no rule of its own; a quest (or another mechanic) awards it
    when: BadgeRule | None = Field(default=None, exclude_if=lambda v: v is None)


class Tier(_Model):
    key: Key
    name: str = Field(min_length=1)
    min_points: int = Field(ge=0)
    benefits: dict[str, Scalar] = Field(default_factory=dict)


class TierQualification(_Model):
    """Tiers on points earned in the last ``months`` calendar months, which may demote."""

    months: int = Field(ge=1, le=120)


class QuestStep(_Model):
    """One step of a quest: done when its action matches (and the step's own conditions hold)."""

    key: Key
    name: str = Field(min_length=1)
    description: str | None = None
    action: str
    conditions: list[Condition] = Field(default_factory=list)
    points: int = Field(default=0, ge=0)
    badge: str | None = None


class QuestRequirements(_Model):
    """What unlocks a quest: other quests completed, and/or a tier reached."""

    quests: list[str] = Field(default_factory=list)
    tier: str | None = None


class QuestPrize(_Model):
    """What completing a quest gives: points, a badge, entitlements for the host product."""

    points: int = Field(default=0, ge=0)
    badge: str | None = None
    entitlements: dict[str, Scalar] = Field(default_factory=dict)


class Quest(_Model):
    """A guided journey: steps in order (or in any order), a reward at the end."""

    key: Key
    name: str = Field(min_length=1)
    description: str | None = None
    ordered: bool = True
    steps: list[QuestStep] = Field(min_length=1)
    reward: QuestPrize = Field(default_factory=QuestPrize)
    time_limit: Duration | None = None
    requires: QuestRequirements = Field(default_factory=QuestRequirements)
    hidden: bool = False
    stages: list[str] = Field(default_factory=list)  # steps count only in these stages


class ChallengeGoal(_Model):
    """What a member must reach inside the window: ``count`` rewarded occurrences of an
    action, a ``points`` total, or the ``sum`` of an action's property up to ``target``."""

    action: str | None = None
    count: int | None = Field(default=None, ge=1)
    points: int | None = Field(default=None, ge=1)
    sum: str | None = Field(default=None, min_length=1)
    target: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_kind(self) -> ChallengeGoal:
        if self.points is not None:
            if any(v is not None for v in (self.action, self.count, self.sum, self.target)):
                raise ValueError("a 'points' goal takes no 'action', 'count', 'sum' or 'target'")
        elif self.action is None:
            raise ValueError("give 'points', or an 'action' (with 'count', or 'sum' and 'target')")
        elif self.sum is not None:
            if self.target is None or self.count is not None:
                raise ValueError("a 'sum' goal needs a 'target' and no 'count'")
        elif self.target is not None:
            raise ValueError("'target' goes with 'sum'")
        return self


class ChallengeAward(_Model):
    """Who is rewarded: everyone who reaches the goal (when they do), or at the window's
    close the ``first`` N to reach it or the ``top`` N by progress."""

    first: int | None = Field(default=None, ge=1)
    top: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _at_most_one(self) -> ChallengeAward:
        if self.first is not None and self.top is not None:
            raise ValueError("give 'first' or 'top', not both")
        return self


class Challenge(_Model):
    """A goal inside a time window, for a segment of members, with a reward."""

    key: Key
    name: str = Field(min_length=1)
    description: str | None = None
    starts: date | datetime
    ends: date | datetime
    goal: ChallengeGoal
    segment: list[Condition] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)
    award: ChallengeAward = Field(default_factory=ChallengeAward)
    reward: QuestPrize = Field(default_factory=QuestPrize)

    @field_validator("starts", "ends", mode="before")
    @classmethod
    def _date_or_time(cls, value: object) -> object:
        return date_or_time(value)

    @model_validator(mode="after")
    def _window(self) -> Challenge:
        # the window's order needs the program's zone: checked by the loader
        for condition in self.segment:
            if condition.attribute is None:
                raise ValueError("a segment tests member attributes: use 'attribute'")
        return self


StreakPeriod = Literal["day", "week"]
# Grace is counted per calendar week (daily streaks) or month (weekly streaks); forgiving a
# whole week (7) or a whole month (4 of its 4 or 5 weeks) would make the streak meaningless.
MAX_GRACE = {"day": 6, "week": 3}


class StreakFreezes(_Model):
    """One freeze earned every ``every`` periods done in a run, at most ``max`` held."""

    every: int = Field(ge=1, le=365)
    max: int = Field(default=1, ge=1, le=10)


class StreakMilestone(_Model):
    """Paid once per member when a run of the streak first reaches ``length`` periods."""

    length: int = Field(ge=1, le=9999)  # the ledger period "<length>d" fits its 16 characters
    points: int = Field(default=0, ge=0)
    badge: Key | None = None


class Streak(_Model):
    """Consecutive days (or weeks) in which a member did an action, with grace and freezes."""

    key: Key
    name: str = Field(min_length=1)
    action: str
    period: StreakPeriod = "day"
    grace: int = Field(default=0, ge=0)
    freezes: StreakFreezes | None = None
    milestones: list[StreakMilestone] = Field(default_factory=list)

    @field_validator("grace")
    @classmethod
    def _grace_fits_its_window(cls, value: int, info: ValidationInfo) -> int:
        period = info.data.get("period")
        if period in MAX_GRACE and value > MAX_GRACE[period]:
            kind, window = ("daily", "week") if period == "day" else ("weekly", "month")
            raise ValueError(
                f"must be <= {MAX_GRACE[period]} for a {kind} streak "
                f"(missed {period}s forgiven per calendar {window})"
            )
        return value

    @field_validator("milestones")
    @classmethod
    def _lengths_differ(cls, value: list[StreakMilestone]) -> list[StreakMilestone]:
        lengths = [m.length for m in value]
        twice = sorted({n for n in lengths if lengths.count(n) > 1})
        if twice:
            raise ValueError(f"length {twice[0]} is listed twice")
        return value


class StageTime(_Model):
    """At least ``days`` since the member entered ``stage``."""

    stage: str
    days: int = Field(ge=0)


class StageRule(_Model):
    """When a member enters a stage: every part given must hold (at an event's time)."""

    action: str | None = None
    count: int = Field(default=1, ge=1)
    within: Duration | None = None
    conditions: list[Condition] = Field(default_factory=list)
    quest: str | None = None
    lifetime_points: int | None = Field(default=None, ge=1)
    after: StageTime | None = None

    @model_validator(mode="after")
    def _something(self) -> StageRule:
        if not any((self.action, self.conditions, self.quest, self.lifetime_points, self.after)):
            raise ValueError(
                "give at least one of 'action', 'conditions', 'quest', 'lifetime_points', 'after'"
            )
        if self.action is None and ("count" in self.model_fields_set or self.within is not None):
            raise ValueError("'count' and 'within' apply only with an 'action'")
        for condition in self.conditions:
            if condition.attribute is None:
                raise ValueError("stage conditions test member attributes: use 'attribute'")
        return self


class Stage(_Model):
    """A lifecycle stage (trial, onboarding, activated, mature) with the rewards that fit it."""

    key: Key
    name: str = Field(min_length=1)
    description: str | None = None
    when: StageRule | None = None  # None: the stage every member starts in (the first only)
    entitlements: dict[str, Scalar] = Field(default_factory=dict)
    next_step: str | None = None


LEADERBOARD_WINDOWS = ("all", *CALENDAR_WINDOWS)
_ROLLING = re.compile(r"^([1-9][0-9]{0,2})d$")
# A member attribute every board honours: true hides the member from everyone else's view.
OPT_OUT_ATTRIBUTE = "leaderboard_opt_out"


class LeaderboardMetric(_Model):
    """What a board counts, other than points: the rewarded occurrences of an ``action``, or
    the ``sum`` of one of its events' properties (a deal's value)."""

    action: str = Field(min_length=1)
    sum: str | None = Field(default=None, min_length=1)


class LeaderboardPrize(_Model):
    """Paid to the ``top`` N of each partition when a calendar window closes."""

    top: int = Field(ge=1, le=1000)
    points: int = Field(default=0, ge=0)
    badge: str | None = None


class Leaderboard(_Model):
    """A ranking of members, teams or companies by a metric, over a window, within partitions."""

    key: Key
    name: str = Field(min_length=1)
    description: str | None = None
    subject: Literal["member", "team", "company"] = "member"
    metric: Literal["points"] | LeaderboardMetric = "points"
    window: str = "all"
    partition: list[str] = Field(default_factory=list)  # member attributes
    tier_bracket: bool = False  # members compete within their tier
    segment: list[Condition] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)
    min_score: int = Field(default=1, ge=1)
    reward: LeaderboardPrize | None = None

    @field_validator("window")
    @classmethod
    def _known_window(cls, value: str) -> str:
        if value not in LEADERBOARD_WINDOWS and not _ROLLING.match(value):
            raise ValueError(
                f"'{value}' is not a window: use all, day, week, month, quarter, year, "
                "or a rolling number of days such as 7d or 30d (at most 999d)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Leaderboard:
        if self.subject != "member":
            for name in ("partition", "tier_bracket", "segment", "tiers", "stages"):
                if getattr(self, name):
                    raise ValueError(
                        f"'{name}' is for member boards: a {self.subject}'s score sums its "
                        "members' events, whatever their attributes"
                    )
        for condition in self.segment:
            if condition.attribute is None:
                raise ValueError("a segment tests member attributes: use 'attribute'")
        if len(set(self.partition)) != len(self.partition):
            raise ValueError("'partition' names an attribute twice")
        if self.reward is not None and self.subject != "member":
            raise ValueError("a reward is paid to members: give it on a member board")
        if self.reward is not None and self.window not in CALENDAR_WINDOWS:
            raise ValueError(
                "a reward is paid when a calendar window (day, week, month, quarter, year) "
                f"closes; a '{self.window}' window never closes"
            )
        return self

    @property
    def rolling_days(self) -> int | None:
        found = _ROLLING.match(self.window)
        return int(found.group(1)) if found else None


Fulfilment = Literal["code", "manual", "webhook", "donation"]
LimitPeriod = Literal["ever", "year", "quarter", "month"]


class Money(_Model):
    """An amount of money in integer minor units (cents), with its ISO 4217 currency."""

    amount: int = Field(ge=0)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class RewardLimit(_Model):
    """At most ``count`` redemptions of an item per member ``per`` calendar period (or ever)."""

    count: int = Field(ge=1)
    per: LimitPeriod = "ever"


class Reward(_Model):
    """A reward a member can buy with spendable points."""

    key: Key
    name: str = Field(min_length=1)
    description: str | None = None
    price: int = Field(ge=1)  # points, taken from the spendable balance
    value: Money | None = None  # what it costs the program, for reports
    stock: int | None = Field(default=None, ge=0)  # units on offer in all; None: unlimited
    limit: RewardLimit | None = None  # per member
    segment: list[Condition] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)
    fulfilment: Fulfilment = "manual"
    approval: bool = False  # an admin approves each redemption before it is fulfilled

    @model_validator(mode="after")
    def _segment_on_attributes(self) -> Reward:
        for condition in self.segment:
            if condition.attribute is None:
                raise ValueError("a segment tests member attributes: use 'attribute'")
        return self


class ReferenceLimit(_Model):
    """An advocate is asked at most ``count`` times ``within`` a rolling duration."""

    count: int = Field(ge=1)
    within: Duration


class References(_Model):
    """Reference requests: what a request may match on, who may be asked, how often."""

    match: list[str] = Field(default_factory=list)  # member attributes a request names
    limits: list[ReferenceLimit] = Field(default_factory=list)
    segment: list[Condition] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid(self) -> References:
        for condition in self.segment:
            # the segment is matched on the facet index: equality on `match` attributes
            if condition.attribute is None or condition.attribute not in self.match:
                raise ValueError("a segment here tests attributes listed in 'match'")
            if condition.test() not in ("eq", "ne", "in", "not_in"):
                raise ValueError("a segment here tests with eq, ne, in or not_in")
        if len(set(self.match)) != len(self.match):
            raise ValueError("'match' names an attribute twice")
        if any(not name or len(name) > 64 for name in self.match):
            raise ValueError("'match' attributes are 1 to 64 characters")
        return self


class PointsExpiry(_Model):
    """Earned points not spent within ``after`` expire, oldest first; ``warn`` ahead, a warning."""

    after: Duration
    warn: Duration | None = None


class PointsPolicy(_Model):
    """How earned points become spendable (``pending``) and stop being so (``expiry``)."""

    pending: Duration | None = None
    expiry: PointsExpiry | None = None


class Program(_Model):
    key: Key
    name: str = Field(min_length=1)
    description: str | None = None
    timezone: str = "UTC"
    actions: list[Action] = Field(min_length=1)
    badges: list[Badge] = Field(default_factory=list)
    tiers: list[Tier] = Field(default_factory=list)
    tier_qualification: TierQualification | None = None
    # Left out of the dump when empty, so the content hash of a program without them is the
    # one it had before they existed (republishing it is still "unchanged").
    quests: list[Quest] = Field(default_factory=list, exclude_if=lambda v: not v)
    challenges: list[Challenge] = Field(default_factory=list, exclude_if=lambda v: not v)
    # Left out of the dump when empty, so programs without streaks keep their content hash.
    streaks: list[Streak] = Field(default_factory=list, exclude_if=lambda v: not v)
    stages: list[Stage] = Field(default_factory=list, exclude_if=lambda v: not v)
    leaderboards: list[Leaderboard] = Field(default_factory=list, exclude_if=lambda v: not v)
    rewards: list[Reward] = Field(default_factory=list, exclude_if=lambda v: not v)
    references: References | None = Field(default=None, exclude_if=lambda v: v is None)
    points: PointsPolicy | None = Field(default=None, exclude_if=lambda v: v is None)
    analytics: Analytics | None = Field(default=None, exclude_if=lambda v: v is None)
    experiments: list[Experiment] = Field(default_factory=list, exclude_if=lambda v: not v)
    assessments: list[Assessment] = Field(default_factory=list, exclude_if=lambda v: not v)
    integrations: Integrations | None = Field(default=None, exclude_if=lambda v: v is None)
    recommendations: Recommendations | None = Field(default=None, exclude_if=lambda v: v is None)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{value}' (use an IANA name such as Europe/Berlin)"
            ) from None
        return value


def known_keys() -> set[str]:
    """Every key a program file may use anywhere, for 'did you mean' on typos."""
    models: list[type[BaseModel]] = [
        Condition,
        PointsFromProperty,
        Multiplier,
        Cap,
        Limits,
        Action,
        BadgeRule,
        Badge,
        Tier,
        TierQualification,
        QuestStep,
        QuestRequirements,
        QuestPrize,
        Quest,
        ChallengeGoal,
        ChallengeAward,
        Challenge,
        Program,
        BonusOutcome,
        StreakFreezes,
        StreakMilestone,
        Streak,
        StageTime,
        StageRule,
        Stage,
        LeaderboardMetric,
        LeaderboardPrize,
        Leaderboard,
        Money,
        RewardLimit,
        Reward,
        ReferenceLimit,
        References,
        PointsExpiry,
        PointsPolicy,
        Analytics,
        Pipeline,
        Experiment,
        ExperimentCovers,
        Assessment,
        AssessmentDimension,
        AssessmentSection,
        CrmField,
        AnswerOption,
        AnswerBand,
        Question,
        ReadinessLevel,
        SegmentRule,
        AssessmentSegment,
        ResultField,
        Integrations,
        HubSpot,
        Notices,
        Recommendations,
        RecommendationTrigger,
        Notice,
        Salesforce,
        InboundRule,
    ]
    keys: set[str] = set()
    for model in models:
        for name, info in model.model_fields.items():
            keys.add(info.alias or name)
    return keys


# Experiment's segment and key use Condition and Key above (program/experiments.py cannot import
# this module, which imports it); Program holds experiments, so it is completed after them.
Experiment.model_rebuild()
for _assessment_model in (
    AssessmentDimension,
    AssessmentSection,
    AnswerOption,
    Question,
    ReadinessLevel,
    AssessmentSegment,
    Assessment,
):
    _assessment_model.model_rebuild()
Program.model_rebuild()
