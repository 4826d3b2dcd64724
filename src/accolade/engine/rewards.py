"""What a quest or a challenge gives, as a member is shown it before earning it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accolade.program.compile import CompiledProgram


@dataclass(frozen=True, slots=True)
class RewardView:
    points: int
    badge: str | None  # the badge's name
    entitlements: dict[str, Any]


def reward_view(
    program: CompiledProgram, points: int, badge_key: str | None, entitlements: Mapping[str, Any]
) -> RewardView:
    badge = program.badges.get(badge_key) if badge_key else None
    return RewardView(points, badge.name if badge else None, dict(entitlements))
