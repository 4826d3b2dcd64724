"""The rule changes between two programs, in words (program/diff.py)."""

from __future__ import annotations

from accolade.program.diff import Change, diff_programs
from accolade.program.loader import load_program
from tests.programs import program_head

ACTIONS = """\
actions:
  - {key: lead_qualified, event: lead.qualified, points: 500}
  - {key: video, event: video.watched, points: 10, limits: {cap: {count: 5, per: day}}}
badges:
  - {key: first_lead, name: First lead, when: {action: lead_qualified}}
"""


def program(body: str = ACTIONS, **head: object) -> str:
    return program_head("shop", "Shop", **head) + body  # type: ignore[arg-type]


def texts(before: str, after: str) -> list[str]:
    return [c.text for c in diff_programs(load_program(before), load_program(after))]


def test_the_same_program_has_no_changes():
    assert texts(program(), program()) == []


def test_formatting_and_comments_are_no_changes():
    reflowed = program().replace("badges:", "# the badges\nbadges:")
    assert texts(program(), reflowed) == []


def test_a_changed_field_of_an_item_says_old_and_new():
    after = program(ACTIONS.replace("points: 500", "points: 750"))

    [change] = diff_programs(load_program(program()), load_program(after))

    assert change == Change(
        "actions",
        "lead_qualified",
        "points",
        500,
        750,
        "action 'lead_qualified': points 500 → 750",
    )


def test_a_removed_item_is_named_once():
    after = program(ACTIONS.split("badges:")[0])

    assert texts(program(), after) == ["badge 'first_lead' removed"]


def test_an_added_item_is_named_once_with_its_definition_in_after():
    after = program(ACTIONS + "  - {key: closer, name: Closer, when: {action: video}}\n")

    [change] = diff_programs(load_program(program()), load_program(after))

    assert change.text == "badge 'closer' added"
    assert (change.section, change.key, change.field, change.before) == (
        "badges",
        "closer",
        None,
        None,
    )
    assert isinstance(change.after, dict) and change.after["name"] == "Closer"


def test_a_nested_field_is_named_by_its_path():
    after = program(ACTIONS.replace("count: 5", "count: 3"))

    assert texts(program(), after) == ["action 'video': limits.cap.count 5 → 3"]


def test_a_tier_threshold_change_names_the_tier():
    before = program(tiers=(("bronze", "Bronze", 0), ("gold", "Gold", 20000)))
    after = program(tiers=(("bronze", "Bronze", 0), ("gold", "Gold", 25000)))

    assert texts(before, after) == ["tier 'gold': min_points 20000 → 25000"]


def test_items_moved_in_their_list_are_no_change():
    swapped = ACTIONS.replace(
        "  - {key: lead_qualified, event: lead.qualified, points: 500}\n", ""
    ).replace("badges:", "  - {key: lead_qualified, event: lead.qualified, points: 500}\nbadges:")

    assert texts(program(), program(swapped)) == []


def test_top_level_scalars_say_old_and_new():
    after = program(timezone="Europe/Berlin").replace("name: Shop", "name: Shop EU")

    assert texts(program(), after) == [
        "name: 'Shop' → 'Shop EU'",
        "timezone: 'UTC' → 'Europe/Berlin'",
    ]


def test_a_top_level_object_added_then_changed_field_by_field():
    policy = program() + "points:\n  pending: 2d\n  expiry: {after: 365d, warn: 30d}\n"
    changed = policy.replace("pending: 2d", "pending: 3d")

    [added] = texts(program(), policy)
    assert added.startswith("points added: {")
    assert texts(policy, changed) == ["points: pending '2d' → '3d'"]
    [removed] = texts(policy, program())
    assert removed.startswith("points removed (was {")


def test_a_field_set_where_it_was_unset_is_added():
    after = program(ACTIONS.replace("points: 500}", "points: 500, name: Qualified lead}"))

    assert texts(program(), after) == ["action 'lead_qualified': name added: 'Qualified lead'"]


def test_keyed_lists_inside_an_item_are_matched_by_key():
    quest = (
        "quests:\n"
        "  - key: onboarding\n"
        "    name: Onboarding\n"
        "    steps:\n"
        "      - {key: watch, name: Watch, action: video, points: 20}\n"
        "      - {key: qualify, name: Qualify, action: lead_qualified, points: 30}\n"
    )
    before = program(ACTIONS + quest)
    after = program(ACTIONS + quest.replace("points: 30", "points: 40"))
    fewer = program(ACTIONS + quest.split("      - {key: qualify")[0])

    assert texts(before, after) == ["quest 'onboarding': steps['qualify'].points 30 → 40"]
    [removed] = texts(before, fewer)
    assert removed.startswith("quest 'onboarding': steps['qualify'] removed (was {")


def test_a_whole_section_added_lists_each_item():
    quests = (
        "quests:\n"
        "  - {key: a, name: A, steps: [{key: s, name: S, action: video}]}\n"
        "  - {key: b, name: B, steps: [{key: s, name: S, action: video}]}\n"
    )

    assert texts(program(), program(ACTIONS + quests)) == ["quest 'a' added", "quest 'b' added"]


def test_a_changed_list_without_keys_is_one_change():
    after = program(
        ACTIONS.replace("points: 500}", "points: 500, conditions: [{property: q, eq: true}]}")
    )

    assert texts(program(), after) == [
        'action \'lead_qualified\': conditions [] → [{"property": "q", "eq": true}]'
    ]
