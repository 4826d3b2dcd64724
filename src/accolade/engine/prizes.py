"""A prize: what completing a quest or a challenge gives (points, a badge, entitlements), as a
member is shown it before earning it. Not a reward: rewards are the catalogue members redeem
points for (engine/rewards.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accolade.program.compiled import CompiledProgram


@dataclass(frozen=True, slots=True)
class PrizeView:
    points: int
    badge: str | None  # the badge's name
    entitlements: dict[str, Any]


def prize_view(
    program: CompiledProgram, points: int, badge_key: str | None, entitlements: Mapping[str, Any]
) -> PrizeView:
    badge = program.badges.get(badge_key) if badge_key else None
    return PrizeView(points, badge.name if badge else None, dict(entitlements))
