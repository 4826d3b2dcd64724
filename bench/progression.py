"""The demo partner program plus every progression mechanic, for bench/ingest.py: 5 quests,
3 challenges open during the stream, a daily streak and the four lifecycle stages, all on the
demo stream's own actions (built from examples/partner-program.yaml, not a copy of it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEMO = Path(__file__).resolve().parents[1] / "examples" / "partner-program.yaml"


def _video(n: int) -> list[dict[str, Any]]:
    return [{"property": "video", "eq": f"v{n}"}]


def _quiz(n: int) -> list[dict[str, Any]]:
    return [{"property": "quiz", "eq": f"q{n}"}]


def progression_program() -> dict[str, Any]:
    program: dict[str, Any] = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    program["badges"].append({"key": "pathfinder", "name": "Pathfinder"})
    program["quests"] = [
        {
            "key": "onboarding",
            "name": "Partner onboarding",
            "steps": [
                {"key": "video", "name": "Watch a video", "action": "video_watched", "points": 20},
                {
                    "key": "profile",
                    "name": "Complete your profile",
                    "action": "profile_completed",
                    "points": 30,
                },
                {"key": "quiz", "name": "Pass a quiz", "action": "quiz_passed", "points": 100},
                {
                    "key": "answer",
                    "name": "Answer in the community",
                    "action": "community_answer",
                    "points": 50,
                },
            ],
            "reward": {"badge": "pathfinder"},
        },
        {
            "key": "video_series",
            "name": "The product video series",
            "ordered": False,
            "steps": [
                {
                    "key": f"v{n}",
                    "name": f"Watch video {n}",
                    "action": "video_watched",
                    "conditions": _video(n),
                }
                for n in (1, 2, 3)
            ],
            "reward": {"points": 100},
        },
        {
            "key": "certification",
            "name": "Certification track",
            "time_limit": "60d",
            "steps": [
                {
                    "key": f"q{n}",
                    "name": f"Pass quiz {n}",
                    "action": "quiz_passed",
                    "conditions": _quiz(n),
                }
                for n in (1, 2, 3)
            ],
            "reward": {"points": 300, "entitlements": {"certified_partner": True}},
        },
        {
            "key": "community",
            "name": "Community helper",
            "ordered": False,
            "steps": [
                {"key": f"a{n}", "name": f"Answer {n}", "action": "community_answer"}
                for n in (1, 2, 3)
            ],
            "reward": {"points": 50},
        },
        {
            "key": "pipeline",
            "name": "First pipeline",
            "requires": {"quests": ["onboarding"]},
            "steps": [
                {"key": "lead", "name": "Register a lead", "action": "lead_registered"},
                {"key": "deal", "name": "Win a deal", "action": "deal_won"},
            ],
            "reward": {"points": 500, "entitlements": {"commission_bonus_pct": 2}},
        },
    ]
    program["challenges"] = [
        {
            "key": "q1_answers",
            "name": "Ten answers in Q1",
            "starts": "2026-01-01",
            "ends": "2026-03-31",
            "goal": {"action": "community_answer", "count": 10},
            "reward": {"points": 200},
        },
        {
            "key": "february_points",
            "name": "Top 10 by points in February",
            "starts": "2026-02-01",
            "ends": "2026-02-28",
            "goal": {"points": 500},
            "award": {"top": 10},
            "reward": {"points": 1000},
        },
        {
            "key": "emea_pipeline",
            "name": "First 20 EMEA partners to win 50k",
            "starts": "2026-01-01",
            "ends": "2026-04-30",
            "goal": {"action": "deal_won", "sum": "amount_usd", "target": 50_000},
            "segment": [{"attribute": "region", "eq": "EMEA"}],
            "award": {"first": 20},
            "reward": {"points": 2000},
        },
    ]
    program["streaks"] = [
        {
            "key": "daily_learning",
            "name": "Daily learning",
            "action": "video_watched",
            "period": "day",
            "grace": 1,
            "freezes": {"every": 7, "max": 3},
            "milestones": [{"length": 7, "points": 50}, {"length": 30, "points": 300}],
        }
    ]
    program["stages"] = [
        {"key": "trial", "name": "Trial", "entitlements": {"trial_days": 7}},
        {"key": "onboarding", "name": "Onboarding", "when": {"action": "profile_completed"}},
        {
            "key": "activated",
            "name": "Activated",
            "when": {"action": "quiz_passed", "count": 3, "within": "14d"},
            "entitlements": {"template_pack": "advanced"},
        },
        {
            "key": "mature",
            "name": "Mature",
            "when": {"after": {"stage": "activated", "days": 60}, "action": "deal_won"},
            "entitlements": {"partner_benefit": "co_marketing"},
        },
    ]
    return program


def write_progression_program(path: Path) -> Path:
    path.write_text(yaml.safe_dump(progression_program(), sort_keys=False), encoding="utf-8")
    return path
