"""Pydantic models of a program's `experiments:` section: pilots with a control group, the
mechanics each covers, who takes part, when, and how members are split into two arms.

Structure only; names in `covers` must point at mechanics of the same file, windows must not
overlap on a mechanic: both are checked with the whole file (program/checks.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from accolade.program.durations import date_or_time

if TYPE_CHECKING:
    # program/models.py imports this module for Program; it completes these models once
    # Condition and Key exist there (Experiment.model_rebuild at its end)
    from accolade.program.models import Condition, Key

# what a report can measure per arm (docs/analytics.md defines each)
Outcome = Literal["activation", "active", "qualified", "adoption", "pipeline"]
OUTCOMES: tuple[Outcome, ...] = ("activation", "active", "qualified", "adoption", "pipeline")
# the sections of a program an experiment can cover, as `covers` names them
COVERED_SECTIONS = ("actions", "badges", "quests", "challenges", "leaderboards", "rewards")
# the rule `covers: {recommendations: true}` names: the control arm is shown no next best
# actions (service/recommend.py); not a ledger rule, so no entry ever carries it
RECOMMENDATIONS = "recommendations"
DEFAULT_SHARE = 0.5


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ExperimentCovers(_Model):
    """The mechanics an experiment withholds from its control group, by key."""

    actions: list[str] = Field(default_factory=list)
    badges: list[str] = Field(default_factory=list)
    quests: list[str] = Field(default_factory=list)
    challenges: list[str] = Field(default_factory=list)
    leaderboards: list[str] = Field(default_factory=list)
    rewards: list[str] = Field(default_factory=list)
    # true: the control arm is shown no recommendations (next best actions)
    recommendations: bool = False

    @model_validator(mode="after")
    def _something(self) -> ExperimentCovers:
        if not self.recommendations and not any(
            getattr(self, section) for section in COVERED_SECTIONS
        ):
            raise ValueError(
                "name at least one mechanic: actions, badges, quests, challenges, "
                "leaderboards or rewards, or set 'recommendations: true'"
            )
        for section in COVERED_SECTIONS:
            names: list[str] = getattr(self, section)
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"'{twice[0]}' is listed twice in '{section}'")
        return self

    def rules(self) -> list[str]:
        """Each covered mechanic as ledger entries name its rule: ``action:KEY``, ``badge:KEY``...,
        then ``recommendations`` when they are covered."""
        rules = [
            f"{section.removesuffix('s')}:{name}"
            for section in COVERED_SECTIONS
            for name in getattr(self, section)
        ]
        return [*rules, RECOMMENDATIONS] if self.recommendations else rules


class Experiment(_Model):
    """A pilot: the covered mechanics reach only its treatment arm inside its window, so the
    report can compare the two arms."""

    key: Key
    name: str = Field(min_length=1)
    description: str | None = None
    covers: ExperimentCovers
    segment: list[Condition] = Field(default_factory=list)
    starts: date | datetime
    ends: date | datetime
    # the share of the segment in treatment, drawn by a hash of (key, member)
    split: float | None = Field(default=None, gt=0, lt=1)
    # or: these members (external ids) are the treatment arm; the rest of the segment, control
    cohort: list[str] | None = Field(default=None, min_length=1)
    outcomes: list[Outcome] = Field(default_factory=lambda: list(OUTCOMES), min_length=1)

    @field_validator("starts", "ends", mode="before")
    @classmethod
    def _date_or_time(cls, value: object) -> object:
        return date_or_time(value)

    @field_validator("cohort")
    @classmethod
    def _members(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for name in value:
            if not name.strip() or len(name) > 200:
                raise ValueError("a member id is 1 to 200 characters")
        twice = sorted({n for n in value if value.count(n) > 1})
        if twice:
            raise ValueError(f"member '{twice[0]}' is listed twice")
        return value

    @field_validator("outcomes")
    @classmethod
    def _outcomes_once(cls, value: list[Outcome]) -> list[Outcome]:
        twice = sorted({n for n in value if value.count(n) > 1})
        if twice:
            raise ValueError(f"'{twice[0]}' is listed twice")
        return value

    @model_validator(mode="after")
    def _one_split(self) -> Experiment:
        if self.split is not None and self.cohort is not None:
            raise ValueError(
                "give 'split' (a share drawn at random) or 'cohort' (the treatment members), "
                "not both"
            )
        for condition in self.segment:
            if condition.attribute is None:
                raise ValueError("a segment tests member attributes: use 'attribute'")
        return self

    @property
    def share(self) -> float:
        """The expected share of the segment in treatment (a cohort's is not known ahead)."""
        return self.split if self.split is not None else DEFAULT_SHARE


# Imported for its side effect, last: whoever imports this module first gets the models above
# completed (program/models.py defines Condition and Key and rebuilds them).
from accolade.program import models as _models  # noqa: E402, F401
