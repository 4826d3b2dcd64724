"""The tests' program head (tests/programs.py) is a program file the loader accepts."""

from __future__ import annotations

from accolade.program.loader import load_program
from tests.programs import MEMBER_GOLD, program_head


def test_the_head_with_an_action_is_a_valid_program():
    source = program_head("shop", "Shop", timezone="Europe/Berlin", tiers=MEMBER_GOLD) + (
        "actions:\n  - {key: review, event: review.posted, points: 500}\n"
    )
    program = load_program(source)
    assert (program.key, program.name, program.timezone) == ("shop", "Shop", "Europe/Berlin")
    assert [(t.key, t.min_points) for t in program.tiers] == [("member", 0), ("gold", 1000)]


def test_without_a_zone_or_tiers_the_head_leaves_them_out():
    assert program_head("x", "X", tiers=()) == "key: x\nname: X\n"
