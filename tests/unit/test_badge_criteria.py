"""A badge's criteria in words, as a member reads them before earning it."""

from __future__ import annotations

from accolade.engine.badges import describe_badge
from tests.unit.builders import demo, program


def described(prog, key: str) -> str:
    return describe_badge(prog, prog.badges[key])


def test_an_action_badge_names_the_action_its_count_and_window():
    prog = demo()
    assert described(prog, "certified_user") == "Pass a product certification quiz"
    assert described(prog, "top_contributor") == (
        "Answer a question in the partner community, 10 times within 30 days"
    )


def test_a_repeating_badge_says_its_calendar_period():
    assert described(demo(), "product_expert") == (
        "Pass a product certification quiz, 5 times in one calendar year"
    )


def test_all_of_and_points_badges():
    prog = demo()
    assert described(prog, "deal_maker") == (
        "all of: Register a qualified lead; Close a registered deal"
    )
    assert described(prog, "high_achiever") == "earn 10,000 lifetime points"


def test_an_action_without_a_name_is_named_by_its_key():
    prog = program(
        {
            "actions": [{"key": "story_told", "points": 5}],
            "badges": [
                {"key": "teller", "name": "Teller", "when": {"action": "story_told", "count": 2}},
                {
                    "key": "monthly",
                    "name": "Monthly",
                    "repeat": "monthly",
                    "when": {"lifetime_points": 50},
                },
            ],
        }
    )
    assert described(prog, "teller") == "story told, 2 times"
    assert described(prog, "monthly") == "earn 50 points in one calendar month"


def test_a_badge_without_a_rule_names_what_gives_it():
    prog = program(
        {
            "actions": [{"key": "quiz", "points": 5}, {"key": "visit", "points": 1}],
            "badges": [
                {"key": "starter", "name": "Starter"},
                {"key": "finisher", "name": "Finisher"},
                {"key": "winner", "name": "Winner"},
                {"key": "regular", "name": "Regular"},
                {"key": "champion", "name": "Champion"},
            ],
            "quests": [
                {
                    "key": "path",
                    "name": "The path",
                    "steps": [
                        {"key": "q", "name": "Pass the quiz", "action": "quiz", "badge": "starter"}
                    ],
                    "reward": {"badge": "finisher"},
                }
            ],
            "challenges": [
                {
                    "key": "sprint",
                    "name": "Sprint",
                    "starts": "2026-06-01",
                    "ends": "2026-06-30",
                    "goal": {"action": "quiz"},
                    "reward": {"badge": "winner"},
                }
            ],
            "streaks": [
                {
                    "key": "daily",
                    "name": "Daily visits",
                    "action": "visit",
                    "milestones": [{"length": 7, "badge": "regular"}],
                }
            ],
            "leaderboards": [
                {
                    "key": "weekly",
                    "name": "Weekly board",
                    "window": "week",
                    "reward": {"top": 3, "badge": "champion"},
                }
            ],
        }
    )
    assert described(prog, "starter") == "Pass the quiz (quest The path)"
    assert described(prog, "finisher") == "complete the quest The path"
    assert described(prog, "winner") == "reach the goal of the challenge Sprint"
    assert described(prog, "regular") == "a run of 7 days of Daily visits"
    assert described(prog, "champion") == "finish in the top 3 of Weekly board"
