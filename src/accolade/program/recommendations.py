"""Pydantic model of a program's `recommendations:` section: how the next best actions are
scored (the member attributes the model learns from, the completion window, the exploration
share) and the triggers that surface a candidate after an action. The references of a trigger
are checked with the whole file (``check_recommendations``), so an error names its path."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from accolade.errors import FieldError

# the kinds of candidate a trigger may surface, as a candidate key starts ("challenge:KEY")
SURFACEABLE = ("action", "challenge", "quest", "streak", "reward")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RecommendationTrigger(_Model):
    """After a rewarded occurrence of action ``after``, candidate ``surface`` leads the member's
    list for ``for_days`` days (while the member is still eligible for it)."""

    after: str = Field(min_length=1)
    surface: str = Field(pattern=r"^(action|challenge|quest|streak|reward):[^:]+(:[^:]+)?$")
    for_days: int = Field(default=7, ge=1, le=365)


class Recommendations(_Model):
    """How next best actions are chosen for the program's members."""

    attributes: list[str] = Field(default_factory=lambda: ["role"])
    window_days: int = Field(default=14, ge=1, le=365)
    exploration: float = Field(default=0.05, ge=0, le=0.5)
    min_positives: int = Field(default=20, ge=1)
    dismiss_days: int = Field(default=30, ge=1, le=365)
    triggers: list[RecommendationTrigger] = Field(default_factory=list)


def check_recommendations(raw: dict[str, Any]) -> list[FieldError]:
    """A trigger's ``after`` names an action; its ``surface`` names a mechanic of the file."""
    section = raw.get("recommendations")
    if not isinstance(section, dict):
        return []
    keys = {kind: _keys(raw.get(f"{kind}s")) for kind in SURFACEABLE}
    errors: list[FieldError] = []
    triggers = section.get("triggers")
    for i, trigger in enumerate(triggers if isinstance(triggers, list) else []):
        if not isinstance(trigger, dict):
            continue
        after = trigger.get("after")
        if isinstance(after, str) and after not in keys["action"]:
            errors.append(
                FieldError(f"recommendations.triggers[{i}].after", f"unknown action '{after}'")
            )
        surface = trigger.get("surface")
        if not isinstance(surface, str) or ":" not in surface:
            continue
        kind, key = surface.split(":", 1)
        key = key.split(":", 1)[0]  # quest:KEY:STEP names the quest first
        if kind in keys and key not in keys[kind]:
            errors.append(
                FieldError(f"recommendations.triggers[{i}].surface", f"unknown {kind} '{key}'")
            )
    return errors


def _keys(items: object) -> set[str]:
    if not isinstance(items, list):
        return set()
    return {i["key"] for i in items if isinstance(i, dict) and isinstance(i.get("key"), str)}
