"""The line of a program file's error path (program/lines.py), as the console's editor shows it."""

from __future__ import annotations

from accolade.program.lines import line_of, path_steps

SOURCE = """\
key: partner
actions:
  - {key: a, event: a.done, points: 1}
  - key: b
    event: b.done
    points: lots
"""


def test_a_path_is_split_into_keys_and_indexes():
    assert path_steps("actions[1].limits.cap") == ["actions", 1, "limits", "cap"]


def test_a_key_of_a_list_item_is_at_its_own_line():
    assert line_of(SOURCE, "actions[1].points") == 6


def test_a_key_of_a_flow_mapping_is_at_the_items_line():
    assert line_of(SOURCE, "actions[0].points") == 3


def test_a_missing_key_points_at_the_item_that_lacks_it():
    assert line_of(SOURCE, "actions[1].name") == 4


def test_a_yaml_syntax_error_keeps_its_line():
    assert line_of(SOURCE, "line 7, column 3") == 7


def test_no_line_for_an_empty_path_or_unparsable_text():
    assert line_of(SOURCE, "") is None
    assert line_of("key: [partner\n", "key") is None
