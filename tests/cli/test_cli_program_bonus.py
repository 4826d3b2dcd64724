"""`accolade program validate` shows the expected value of every action's bonus."""

from __future__ import annotations

from tests.cli.builders import DEMO_PROGRAM, ok

ACADEMY = """\
key: academy
name: Academy
actions:
  - key: quiz_passed
    event: quiz.passed
    points: 100
    bonus:
      - {weight: 90, points: 0}
      - {weight: 9, points: 10}
      - {weight: 1, points: 100}
  - key: video_watched
    points: 10
  - key: webinar_attended
    bonus:
      - {weight: 2, points: 0}
      - {weight: 1, points: 1000}
"""


def test_validate_prints_the_expected_bonus_of_each_action_that_has_one(tmp_path):
    path = tmp_path / "academy.yaml"
    path.write_text(ACADEMY)

    result = ok(tmp_path, "program", "validate", path)

    assert result.stdout.splitlines() == [
        "valid: academy (3 actions, 0 badges, 0 tiers)",
        "quiz_passed: bonus expected +1.9 per rewarded event (90% +0, 9% +10, 1% +100)",
        "webinar_attended: bonus expected +333.33 per rewarded event (66.67% +0, 33.33% +1,000)",
    ]


def test_validate_of_a_program_without_bonus_prints_only_the_valid_line(tmp_path):
    result = ok(tmp_path, "program", "validate", DEMO_PROGRAM)

    assert result.stdout.splitlines() == ["valid: partner (6 actions, 5 badges, 4 tiers)"]
