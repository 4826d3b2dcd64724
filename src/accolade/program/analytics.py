"""Pydantic models of a program's `analytics:` section: which events and milestones mean
invited, activated, active, qualified and adopted, and where pipeline value is carried.

Structure only; names that must point at an action, quest, challenge or badge are checked with
the whole file (program/checks.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

import iso4217
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MILESTONE_KINDS = ("action", "quest", "challenge", "badge")
_MILESTONE = re.compile(r"^(action|quest|challenge|badge):(\*|[a-z][a-z0-9_]*)$")


def _milestone(value: str) -> str:
    if not _MILESTONE.match(value):
        raise ValueError(
            f"'{value}' is not a milestone: write action:KEY, quest:KEY, challenge:KEY or "
            "badge:KEY (KEY may be * for any)"
        )
    return value


def _currency(value: str) -> str:
    if value not in {c.code for c in iso4217.Currency}:
        raise ValueError(f"'{value}' is not an ISO 4217 currency code, such as EUR or USD")
    return value


# "action:KEY", "quest:KEY", "challenge:KEY", "badge:KEY"; "*" for any of that kind
Milestone = Annotated[str, AfterValidator(_milestone)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Pipeline(_Model):
    """Business value carried by events: ``property`` (an amount in ``currency``, major units
    such as 25000 or 1234.50) on the events of the ``influenced`` and ``won`` actions."""

    property: str = Field(min_length=1, max_length=100)
    currency: Annotated[str, AfterValidator(_currency)]
    influenced: list[str] = Field(default_factory=list)  # action keys
    won: list[str] = Field(default_factory=list)  # action keys


class Analytics(_Model):
    """What the program's events mean for the reports (docs/analytics.md defines each metric)."""

    # actions whose event marks a member invited; empty: a member counts from their first event
    invited: list[str] = Field(default_factory=list)
    # milestones; the first one a member reaches activates them
    activated: list[Milestone] = Field(default_factory=lambda: ["action:*"], min_length=1)
    # milestones that make a member active in a month or a week
    active: list[Milestone] = Field(default_factory=lambda: ["action:*"], min_length=1)
    qualified: list[str] = Field(default_factory=list)  # actions: a qualified outcome
    adopted: list[str] = Field(default_factory=list)  # actions: product usage
    pipeline: Pipeline | None = None


def firsts_types(
    analytics: Analytics | None, event_types: Mapping[str, str]
) -> frozenset[str] | None:
    """The event types whose firsts the reports read (invited, activated and qualified, as
    service/analytics.py reads them), given the program's action keys -> event types: the
    firsts rollup keeps only these (store/repositories/firsts.py). None: every type, when a
    definition counts any event (no `invited`, or `action:*` among `activated`: the defaults)."""
    defs = analytics or Analytics()
    if not defs.invited or "action:*" in defs.activated:
        return None
    keys = [*defs.invited, *defs.qualified]
    keys += [name.partition(":")[2] for name in defs.activated if name.startswith("action:")]
    return frozenset(event_types[key] for key in keys)
