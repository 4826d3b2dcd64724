"""Tiers: on lifetime points (spending never demotes), or on a qualification window (may demote)."""

from __future__ import annotations

from typing import Any

from tests.unit.builders import DAY, T0, event, member, of_kind, program, run

TIERS = [
    {"key": "bronze", "name": "Bronze", "min_points": 0},
    {"key": "silver", "name": "Silver", "min_points": 5000},
    {"key": "gold", "name": "Gold", "min_points": 20000},
]


def tiered(**extra: Any):
    return program(
        {
            "actions": [{"key": "act", "points_from": {"property": "points", "per": 1}}],
            "tiers": TIERS,
            **extra,
        }
    )


def earn(points: int, at: Any = T0):
    return event(at=at, properties={"points": points})


def tier_changes(entries: Any) -> list[tuple[str, str]]:
    return [(e.rule, e.reason) for e in of_kind(entries, "tier")]


def test_first_event_enters_the_first_tier():
    evaluation = run(tiered(), [earn(10)]).last
    assert tier_changes(evaluation.entries) == [
        ("tier:bronze", "entered Bronze: 10 lifetime points")
    ]


def test_reaching_silver_says_why():
    result = run(tiered(), [earn(4000), earn(1000, T0 + DAY)])
    assert tier_changes(result.last.entries) == [
        ("tier:silver", "reached Silver: 5,000 lifetime points >= 5,000")
    ]
    assert result.state.tier == "silver"


def test_one_point_short_of_silver_stays_bronze():
    result = run(tiered(), [earn(4999)])
    assert result.state.tier == "bronze"


def test_a_big_deal_skips_straight_to_gold():
    result = run(tiered(), [earn(10), earn(25_000, T0 + DAY)])
    assert tier_changes(result.last.entries) == [
        ("tier:gold", "reached Gold: 25,010 lifetime points >= 20,000")
    ]


def test_unchanged_tier_writes_no_tier_entry():
    result = run(tiered(), [earn(10), earn(10, T0 + DAY)])
    assert tier_changes(result.last.entries) == []


def test_spending_points_never_demotes():
    silver = run(tiered(), [earn(6000)]).state
    silver.balance = 0  # all of it spent on rewards
    after = run(tiered(), [earn(10, T0 + DAY)], silver)
    assert after.state.tier == "silver"
    assert tier_changes(after.last.entries) == []
    assert (after.state.balance, after.state.lifetime) == (10, 6010)


def test_program_without_tiers_has_no_tier_entries():
    prog = program({"actions": [{"key": "act", "points": 10}]})
    result = run(prog, [event()])
    assert (result.state.tier, tier_changes(result.entries)) == (None, [])


def test_qualification_window_counts_only_the_last_months():
    prog = tiered(tier_qualification={"months": 12})
    result = run(prog, [earn(6000, "2025-01-15T12:00:00Z")])
    assert tier_changes(result.last.entries) == [
        ("tier:silver", "entered Silver: 6,000 points earned in the last 12 months")
    ]


def test_qualification_window_demotes_once_old_points_fall_out():
    prog = tiered(tier_qualification={"months": 12})
    result = run(prog, [earn(6000, "2025-01-15T12:00:00Z"), earn(100, "2026-01-15T12:00:00Z")])
    assert tier_changes(result.last.entries) == [
        ("tier:bronze", "back to Bronze: 100 points earned in the last 12 months < Silver's 5,000")
    ]
    assert result.state.lifetime == 6100


def test_qualification_window_still_counts_points_from_eleven_months_ago():
    prog = tiered(tier_qualification={"months": 12})
    result = run(prog, [earn(6000, "2025-02-15T12:00:00Z"), earn(100, "2026-01-15T12:00:00Z")])
    assert result.state.tier == "silver"


def test_without_a_qualification_window_old_points_keep_the_tier():
    result = run(tiered(), [earn(6000, "2020-01-15T12:00:00Z"), earn(1, "2026-01-15T12:00:00Z")])
    assert result.state.tier == "silver"


def test_member_already_in_a_tier_is_not_reannounced():
    gold = member(tier="gold", lifetime=20_000)
    result = run(tiered(), [earn(10)], gold)
    assert tier_changes(result.last.entries) == []
