"""The compiled program: what the engine evaluates, indexed for the per-event path, and the
event types Accolade itself sends. Built by compile.py from a validated Program."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from accolade.program.assessments import Assessment, Question
from accolade.program.bonus import BonusTable
from accolade.program.models import (
    Badge,
    Money,
    Program,
    RewardLimit,
    Streak,
    Tier,
)

if TYPE_CHECKING:
    from jinja2 import Template

# A compiled condition: (the event's properties, the member's attributes) -> it holds
Predicate = Callable[[Mapping[str, Any], Mapping[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    describe: str
    check: Predicate


@dataclass(frozen=True, slots=True)
class CompiledMultiplier:
    factor: Decimal
    tier: str | None
    conditions: tuple[CompiledCondition, ...]


@dataclass(frozen=True, slots=True)
class CompiledAction:
    key: str
    event_type: str
    points: int
    points_property: str | None
    points_per: Decimal
    points_each: int
    points_max: int | None
    conditions: tuple[CompiledCondition, ...]
    multipliers: tuple[CompiledMultiplier, ...]
    once: bool
    lifetime_cap: int | None
    cap_count: int | None
    cap_calendar: str | None  # day, week, month, quarter, year
    cap_rolling: int | None  # seconds
    cap_text: str
    cooldown: int | None  # seconds
    rule: str = ""  # "action:<key>", as ledger entries name it
    limited: bool = False  # has any limit (once, caps, cooldown)
    bonus: BonusTable | None = None  # the variable reward drawn when the action is rewarded
    stages: frozenset[str] = frozenset()  # only members in these stages earn it (empty: all)


@dataclass(frozen=True, slots=True)
class CompiledAssessment:
    """An assessment indexed for answering: its questions by key, in file order, each with the
    section it is in, and each segment's sales note compiled."""

    key: str
    definition: Assessment
    questions: Mapping[str, Question]
    section_of: Mapping[str, str | None]
    sales_notes: Mapping[str, Template]


@dataclass(frozen=True, slots=True)
class CompiledStep:
    key: str
    name: str
    description: str | None
    action: str
    conditions: tuple[CompiledCondition, ...]
    points: int
    badge: str | None


@dataclass(frozen=True, slots=True)
class CompiledQuest:
    key: str
    name: str
    description: str | None
    ordered: bool
    steps: tuple[CompiledStep, ...]
    reward_points: int
    reward_badge: str | None
    entitlements: Mapping[str, Any]
    time_limit: int | None  # seconds after the first step
    requires_quests: tuple[str, ...]
    requires_tier: str | None
    hidden: bool
    rule: str = ""  # "quest:<key>", as ledger entries name it
    stages: frozenset[str] = frozenset()  # steps count only in these stages (empty: any)


@dataclass(frozen=True, slots=True)
class CompiledChallenge:
    key: str
    name: str
    description: str | None
    starts: int  # epoch seconds, inclusive
    ends: int  # epoch seconds, exclusive
    goal_action: str | None  # None: a points goal
    goal_sum: str | None  # the property summed, for a sum goal
    target: float  # occurrences, points or the property's sum
    segment: tuple[CompiledCondition, ...]
    tiers: frozenset[str]
    first: int | None  # award the first N to reach the goal, at the close
    top: int | None  # award the top N by progress, at the close
    reward_points: int
    reward_badge: str | None
    entitlements: Mapping[str, Any]
    rule: str = ""  # "challenge:<key>"
    stages: frozenset[str] = frozenset()  # only members in these stages take part (empty: all)

    @property
    def award(self) -> str:
        if self.first is not None:
            return f"first {self.first}"
        if self.top is not None:
            return f"top {self.top}"
        return "everyone"


@dataclass(frozen=True, slots=True)
class CompiledStage:
    key: str
    name: str
    description: str | None
    entitlements: Mapping[str, Any]
    next_step: str | None
    # the entry rule; None for the stage every member starts in
    action: str | None = None
    count: int = 1
    within: int | None = None  # seconds
    conditions: tuple[CompiledCondition, ...] = ()
    quest: str | None = None
    lifetime_points: int | None = None
    after_stage: str | None = None
    after_days: int = 0
    has_rule: bool = False
    rule_text: str = ""  # the rule in words, for ledger reasons and the member view
    # the rule can start to hold at an event that does not reward its action (time since a
    # stage, attributes, quests, points): checked at every event, not only at its action's
    any_event: bool = False


@dataclass(frozen=True, slots=True)
class CompiledLeaderboard:
    key: str
    name: str
    description: str | None
    subject: str  # member | team | company
    action: str | None  # None: points; else the action counted (or whose property is summed)
    sum: str | None  # the property summed, if any
    window: str  # all | day | week | month | quarter | year | rolling
    days: int  # a rolling window's length in days (0 otherwise)
    partition: tuple[str, ...]  # member attributes
    tier_bracket: bool
    segment: tuple[CompiledCondition, ...]
    tiers: frozenset[str]
    stages: frozenset[str]
    min_score: int
    reward_top: int | None
    reward_points: int
    reward_badge: str | None
    rule: str = ""  # "leaderboard:<key>"
    segment_attributes: tuple[str, ...] = ()  # the attributes its segment tests

    @property
    def placed(self) -> bool:
        """Whether a member's place on the board depends on more than opting out."""
        return bool(
            self.partition or self.tier_bracket or self.segment or self.tiers or self.stages
        )


@dataclass(frozen=True, slots=True)
class CompiledReward:
    """A reward (a catalogue item); who may redeem it: ``tiers``, ``stages`` and ``segment`` (each empty: all)."""

    key: str
    name: str
    description: str | None
    price: int
    value: Money | None
    stock: int | None
    limit: RewardLimit | None
    segment: tuple[CompiledCondition, ...]
    tiers: frozenset[str]
    stages: frozenset[str]
    fulfilment: str
    approval: bool


@dataclass(frozen=True, slots=True)
class CompiledReferences:
    """Reference requests: ``match`` attributes a request may name, who may be asked (tiers,
    stages, segment; each empty: all), and ``limits`` as (count, seconds)."""

    match: tuple[str, ...]
    limits: tuple[tuple[int, int], ...]
    # the segment, as facet values: each name must have one of its values, and none of these
    segment_in: tuple[tuple[str, tuple[object, ...]], ...]
    segment_out: tuple[tuple[str, tuple[object, ...]], ...]
    tiers: frozenset[str]
    stages: frozenset[str]

    @property
    def facets(self) -> tuple[str, ...]:
        """The member attributes kept in the facet index (store.repositories.facets)."""
        return (*self.match, REFERENCE_OPT_OUT)


@dataclass(frozen=True, slots=True)
class CompiledExperiment:
    """An experiment: members of ``segment`` (or of ``cohort``) get an arm at their first
    event inside [starts, ends); the control arm does not get the ``covers`` rules there."""

    key: str
    name: str
    description: str | None
    starts: int  # epoch seconds, inclusive
    ends: int  # epoch seconds, exclusive
    segment: tuple[CompiledCondition, ...]
    share: float  # of the segment in treatment, drawn by hash (with a cohort: the default)
    cohort: frozenset[str] | None  # the treatment members, when listed
    covers: tuple[str, ...]  # rules as entries name them: "action:KEY", "badge:KEY", ...
    outcomes: tuple[str, ...]
    rule: str = ""  # "experiment:<key>": the entry recording a member's arm


@dataclass(frozen=True, slots=True)
class CompiledProgram:
    key: str
    version: int
    hash: str
    definition: Program
    zone: ZoneInfo
    actions: Mapping[str, CompiledAction]
    actions_by_event: Mapping[str, tuple[CompiledAction, ...]]
    badges: Mapping[str, Badge]
    badges_by_action: Mapping[str, tuple[Badge, ...]]
    points_badges: tuple[Badge, ...]
    # what to check when one action is rewarded: its badges, then the points badges
    badges_on_reward: Mapping[str, tuple[Badge, ...]]
    tiers: tuple[Tier, ...]
    qualification_months: int | None
    event_types: tuple[str, ...] = field(default=())
    quests: Mapping[str, CompiledQuest] = field(default_factory=dict)
    # action key -> the quests with a step on it (empty for a program without quests)
    quests_by_action: Mapping[str, tuple[CompiledQuest, ...]] = field(default_factory=dict)
    challenges: Mapping[str, CompiledChallenge] = field(default_factory=dict)
    # action key -> challenges counting it; points_challenges count every event's points
    challenges_by_action: Mapping[str, tuple[CompiledChallenge, ...]] = field(default_factory=dict)
    points_challenges: tuple[CompiledChallenge, ...] = ()
    # action key -> the streaks it counts for (only actions that have one are keys)
    streaks_by_action: Mapping[str, tuple[Streak, ...]] = field(default_factory=dict)
    stages: tuple[CompiledStage, ...] = ()  # in lifecycle order
    stage_index: Mapping[str, int] = field(default_factory=dict)
    # some stage rule looks at quests completed or lifetime points (checked again at the end)
    stages_after_points: bool = False
    leaderboards: Mapping[str, CompiledLeaderboard] = field(default_factory=dict)
    rewards: Mapping[str, CompiledReward] = field(default_factory=dict)  # the catalogue
    references: CompiledReferences | None = None
    # seconds: earned points are pending (not spendable) this long; they expire after
    # `expire_after` unless spent, with a warning `expiry_warn` ahead (None: never)
    pending_for: int | None = None
    expire_after: int | None = None
    expiry_warn: int | None = None
    experiments: Mapping[str, CompiledExperiment] = field(default_factory=dict)
    # a covered rule ("action:KEY", "badge:KEY", ...) -> the experiments covering it (empty
    # for a program without experiments: the per-event checks then cost one lookup)
    experiments_covering: Mapping[str, tuple[CompiledExperiment, ...]] = field(default_factory=dict)
    assessments: Mapping[str, CompiledAssessment] = field(default_factory=dict)


# Every program knows this event type: it changes a member's attributes, team or company
# (the API's PATCH of a member sends it), earning nothing unless an action says otherwise. It
# goes through the log like any event, so replay rebuilds the attributes too.
MEMBER_UPDATED = "member.updated"
# A member dismissed a recommended next best action (service.recommend): logged like any event,
# earning nothing, so the list hides it for a while and the model learns from it after replay.
RECOMMENDATION_DISMISSED = "recommendation.dismissed"
# The event Accolade sends each winner when a challenge closes (engine.challenges); the API and
# file ingest refuse it from outside.
CHALLENGE_WON = "challenge.won"
# ... and each of the top N of a leaderboard's partition when its window closes.
LEADERBOARD_WON = "leaderboard.won"
# Events Accolade sends a referring member as their referral moves (service.referrals); actions
# pay for them (`event: referral.qualified`), and outside senders cannot fake them.
REFERRAL_EVENTS = (
    "referral.submitted",
    "referral.accepted",
    "referral.qualified",
    "referral.opportunity",
    "referral.won",
)
# ... and the advocate of a reference request as they accept and complete it (service.references)
REFERENCE_EVENTS = ("reference.accepted", "reference.completed")
# A member attribute: true keeps the member out of reference requests.
REFERENCE_OPT_OUT = "reference_opt_out"
# A lead answering an assessment (engine.assessments); known to a program with assessments,
# and actions may pay for them (`event: assessment.completed`).
ASSESSMENT_STARTED = "assessment.started"
ASSESSMENT_ANSWERED = "assessment.answered"
ASSESSMENT_COMPLETED = "assessment.completed"
ASSESSMENT_EVENTS = (ASSESSMENT_STARTED, ASSESSMENT_ANSWERED, ASSESSMENT_COMPLETED)
# A CRM or sales tool says a lead's sales note was read (the report's sales context adoption)
SALES_NOTE_VIEWED = "sales_note.viewed"
# no action may use these (their rewards are the challenge's or the board's own)
UNACTIONABLE_EVENT_TYPES = (CHALLENGE_WON, LEADERBOARD_WON)
# refused from the API and file ingest
RESERVED_EVENT_TYPES = (*UNACTIONABLE_EVENT_TYPES, *REFERRAL_EVENTS, *REFERENCE_EVENTS)
