"""A program file that does not validate lists every problem at once, each with its path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from accolade.errors import InvalidProgram
from accolade.program.loader import load_program, load_program_file, program_hash
from tests.unit.builders import DEMO_PROGRAM


def errors_of(text: str) -> list[str]:
    with pytest.raises(InvalidProgram) as caught:
        load_program(textwrap.dedent(text))
    return [str(e) for e in caught.value.errors]


BASE = """
key: p
name: P
actions:
  - key: quiz_passed
    points: 100
"""


def test_every_error_is_listed_at_once_with_its_path():
    errors = errors_of(
        """
        key: p
        name: P
        timezone: Mars/Olympus
        actions:
          - key: quiz_passed
            points: 100
          - key: video_watched
            points: 10
          - key: lead_registered
            points: -5
        badges:
          - key: certified
            name: Certified
            when: {action: quiz_pased}
        tiers:
          - {key: bronze, name: Bronze, min_points: 10}
        """
    )
    assert errors == [
        "timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Berlin)",
        "actions[2].points: must be >= 0",
        "badges[0].when.action: unknown action 'quiz_pased' (did you mean 'quiz_passed'?)",
        "tiers[0].min_points: the first tier must start at 0",
    ]


def test_error_carries_the_path_of_the_first_problem():
    with pytest.raises(InvalidProgram) as caught:
        load_program(BASE + "    limits: {lifetime_cap: 0}\n")
    assert caught.value.field == "actions[0].limits.lifetime_cap"
    assert caught.value.message == "must be >= 1"


def test_unknown_all_of_action_is_named_by_its_index():
    errors = errors_of(
        BASE
        + """
badges:
  - key: both
    name: Both
    when: {all_of: [quiz_passed, deal_wn]}
"""
    )
    assert errors == ["badges[0].when.all_of[1]: unknown action 'deal_wn'"]


def test_unknown_key_suggests_the_key_that_was_meant():
    errors = errors_of(BASE + "    pionts: 3\n")
    assert errors == ["actions[0].pionts: unknown key 'pionts' (did you mean 'points'?)"]


def test_unknown_key_far_from_any_known_key_gets_no_suggestion():
    errors = errors_of(BASE + "    zzzqqq: 3\n")
    assert errors == ["actions[0].zzzqqq: unknown key 'zzzqqq'"]


def test_bad_cooldown_duration_is_explained():
    errors = errors_of(BASE + "    limits: {cooldown: 1x}\n")
    assert errors == ["actions[0].limits.cooldown: '1x' is not a duration such as 30d, 12h or 10m"]


def test_zero_cooldown_is_rejected():
    errors = errors_of(BASE + "    limits: {cooldown: 0}\n")
    assert errors == ["actions[0].limits.cooldown: must be longer than zero"]


def test_cap_per_that_is_neither_a_window_nor_a_duration_is_explained():
    errors = errors_of(BASE + "    limits: {cap: {count: 2, per: fortnight}}\n")
    assert errors == [
        "actions[0].limits.cap.per: 'fortnight' is neither a calendar window "
        "(day, week, month, quarter, year) nor a duration such as 24h or 7d"
    ]


def test_badge_within_must_be_a_duration():
    errors = errors_of(
        BASE
        + """
badges:
  - key: busy
    name: Busy
    when: {action: quiz_passed, count: 3, within: soon}
"""
    )
    assert errors == ["badges[0].when.within: 'soon' is not a duration such as 30d, 12h or 10m"]


def test_unknown_time_zone_asks_for_an_iana_name():
    errors = errors_of(BASE + "timezone: Europe/Berlinn\n")
    assert errors == [
        "timezone: unknown time zone 'Europe/Berlinn' (use an IANA name such as Europe/Berlin)"
    ]


def test_tiers_must_start_at_zero():
    errors = errors_of(BASE + "tiers:\n  - {key: silver, name: Silver, min_points: 5000}\n")
    assert errors == ["tiers[0].min_points: the first tier must start at 0"]


def test_tiers_must_increase():
    errors = errors_of(
        BASE
        + """
tiers:
  - {key: bronze, name: Bronze, min_points: 0}
  - {key: gold, name: Gold, min_points: 20000}
  - {key: silver, name: Silver, min_points: 5000}
"""
    )
    assert errors == ["tiers[2].min_points: must be above the previous tier's 20000"]


def test_two_tiers_at_the_same_points_are_rejected():
    errors = errors_of(
        BASE
        + """
tiers:
  - {key: bronze, name: Bronze, min_points: 0}
  - {key: silver, name: Silver, min_points: 0}
"""
    )
    assert errors == ["tiers[1].min_points: must be above the previous tier's 0"]


def test_duplicate_action_key_names_its_first_use():
    errors = errors_of(BASE + "  - key: quiz_passed\n    points: 5\n")
    assert errors == ["actions[1].key: 'quiz_passed' is already used by actions[0]"]


def test_duplicate_badge_key_names_its_first_use():
    errors = errors_of(
        BASE
        + """
badges:
  - {key: star, name: Star, when: {action: quiz_passed}}
  - {key: star, name: Star again, when: {action: quiz_passed, count: 2}}
"""
    )
    assert errors == ["badges[1].key: 'star' is already used by badges[0]"]


def test_points_and_points_from_together_are_rejected():
    errors = errors_of(
        BASE.replace("points: 100", "points: 100\n    points_from: {property: amount, per: 100}")
    )
    assert errors == ["actions[0]: give 'points' or 'points_from', not both"]


def test_both_points_sources_are_reported_alongside_a_bad_condition():
    errors = errors_of(
        BASE.replace("points: 100", "points: 100\n    points_from: {property: amount, per: 100}")
        + "    conditions:\n      - {property: score, gte: 80, lt: 100}\n"
    )
    assert errors == [
        "actions[0].conditions[0]: give exactly one test of "
        "eq, ne, gt, gte, lt, lte, in, not_in, exists",
        "actions[0]: give 'points' or 'points_from', not both",
    ]


def test_condition_with_two_tests_is_rejected():
    errors = errors_of(BASE + "    conditions:\n      - {property: score, gte: 80, lt: 100}\n")
    assert errors == [
        "actions[0].conditions[0]: give exactly one test of "
        "eq, ne, gt, gte, lt, lte, in, not_in, exists"
    ]


def test_condition_with_no_test_is_rejected():
    errors = errors_of(BASE + "    conditions:\n      - {property: score}\n")
    assert errors == [
        "actions[0].conditions[0]: give exactly one test of "
        "eq, ne, gt, gte, lt, lte, in, not_in, exists"
    ]


def test_condition_on_both_property_and_attribute_is_rejected():
    errors = errors_of(
        BASE + "    conditions:\n      - {property: score, attribute: region, eq: 1}\n"
    )
    assert errors == ["actions[0].conditions[0]: name exactly one of 'property' or 'attribute'"]


def test_comparison_with_text_operand_must_be_a_number():
    errors = errors_of(BASE + "    conditions:\n      - {property: score, gte: high}\n")
    assert errors == ["actions[0].conditions[0].gte: must be a number"]


def test_unknown_multiplier_tier_suggests_a_tier():
    errors = errors_of(
        BASE
        + """
    multipliers:
      - {tier: gld, factor: 2}
tiers:
  - {key: bronze, name: Bronze, min_points: 0}
  - {key: gold, name: Gold, min_points: 100}
"""
    )
    assert errors == ["actions[0].multipliers[0].tier: unknown tier 'gld' (did you mean 'gold'?)"]


def test_multiplier_for_nobody_is_rejected():
    errors = errors_of(BASE + "    multipliers:\n      - {factor: 2}\n")
    assert errors == ["actions[0].multipliers[0]: give a 'tier' or 'conditions' (or both)"]


def test_badge_with_two_kinds_of_rule_is_rejected():
    errors = errors_of(
        BASE
        + """
badges:
  - key: odd
    name: Odd
    when: {action: quiz_passed, lifetime_points: 100}
"""
    )
    assert errors == ["badges[0].when: give exactly one of 'action', 'lifetime_points' or 'all_of'"]


def test_count_on_a_points_badge_is_rejected():
    errors = errors_of(
        BASE + "badges:\n  - {key: rich, name: Rich, when: {lifetime_points: 100, count: 2}}\n"
    )
    assert errors == ["badges[0].when: 'count' and 'within' apply only to an 'action' rule"]


def test_tier_qualification_needs_tiers():
    errors = errors_of(BASE + "tier_qualification: {months: 12}\n")
    assert errors == ["tier_qualification: needs tiers to qualify for"]


def test_program_without_actions_is_rejected():
    assert errors_of("key: p\nname: P\nactions: []\n") == ["actions: must not be empty"]


def test_missing_name_is_required():
    assert errors_of("key: p\nactions: [{key: a, points: 1}]\n") == ["name: is required"]


def test_bad_key_explains_the_allowed_characters():
    errors = errors_of(BASE.replace("key: quiz_passed", "key: Quiz-Passed"))
    assert errors == [
        "actions[0].key: must be lowercase letters, digits and '_', starting with a letter"
    ]


def test_text_where_points_belong_must_be_a_whole_number():
    errors = errors_of(BASE.replace("points: 100", "points: lots"))
    assert errors == ["actions[0].points: must be a whole number"]


def test_invalid_yaml_reports_line_and_column():
    errors = errors_of("key: p\nname: P\nactions:\n  - key: a\n   points: 1\n")
    assert len(errors) == 1
    assert errors[0].startswith("line 5, column 4: not valid YAML: ")


def test_a_yaml_list_is_not_a_program():
    assert errors_of("- key: a\n- key: b\n") == [
        "a program file must be a mapping with key, name and actions"
    ]


def test_demo_program_file_loads():
    loaded = load_program_file(DEMO_PROGRAM)
    assert [a.key for a in loaded.actions] == [
        "video_watched",
        "profile_completed",
        "quiz_passed",
        "lead_registered",
        "deal_won",
        "community_answer",
    ]


def test_missing_program_file_is_named_in_the_error(tmp_path: Path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(InvalidProgram) as caught:
        load_program_file(missing)
    assert caught.value.field == str(missing)
    assert "cannot read program file" in caught.value.message


COMPACT = """key: p
name: P
actions: [{key: quiz_passed, points: 100, limits: {cooldown: 1h}}]
"""
SPREAD = """
# The same program, written out with comments
name: P     # name first this time
key: p
timezone: UTC
actions:
  - key: quiz_passed
    points: 100
    limits:
      cooldown: 60m
"""


def test_program_hash_ignores_formatting_comments_and_spelled_out_defaults():
    assert program_hash(load_program(COMPACT)) == program_hash(load_program(SPREAD))


def test_program_hash_changes_when_a_rule_changes():
    changed = COMPACT.replace("points: 100", "points: 101")
    assert program_hash(load_program(COMPACT)) != program_hash(load_program(changed))
