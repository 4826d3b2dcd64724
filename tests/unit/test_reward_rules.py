"""The rewards catalogue in the program file and in the engine: what a file may say, who may
redeem an item, and the calendar period a per-member limit counts in."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest

from accolade.engine.rewards import blocked, limit_since, why_not
from accolade.errors import InvalidProgram
from accolade.program.loader import load_program, program_hash
from tests.programs import BRONZE_GOLD, program_head
from tests.unit.builders import member, program

SOURCE = (
    program_head(
        "shop",
        "Shop",
        timezone="Europe/Berlin",
        tiers=[*BRONZE_GOLD, ("platinum", "Platinum", 5000)],
    )
    + """
stages:
  - {key: trial, name: Trial}
  - {key: active, name: Active, when: {action: review}}
actions:
  - {key: review, event: review.posted, points: 500}
rewards:
  - {key: open, name: Open to all, price: 10}
  - {key: top, name: Top tiers, price: 10, tiers: [gold, platinum]}
  - {key: active_only, name: Active only, price: 10, stages: [active]}
  - {key: emea, name: EMEA, price: 10, segment: [{attribute: region, in: [emea, uk]}, {attribute: role, eq: admin}]}
  - {key: monthly, name: Monthly, price: 10, limit: {count: 2, per: month}}
  - {key: once, name: Once, price: 10, limit: {count: 1}}
"""
)


def errors_of(rewards: str) -> list[str]:
    text = textwrap.dedent(
        """
        key: p
        name: P
        tiers: [{key: gold, name: Gold, min_points: 0}]
        actions: [{key: review, points: 1}]
        rewards:
        """
    ) + textwrap.indent(textwrap.dedent(rewards), "  ")
    with pytest.raises(InvalidProgram) as caught:
        load_program(text)
    return [str(e) for e in caught.value.errors]


def test_who_may_redeem_follows_tier_stage_and_segment_in_words():
    shop = program(SOURCE)
    items = shop.rewards
    newcomer = member(tier="bronze", stage="trial", attributes={"region": "emea"})
    assert why_not(shop, items["open"], newcomer, 0) is None
    assert why_not(shop, items["top"], newcomer, 0) == "only for the Gold or Platinum tier"
    assert (
        why_not(shop, items["active_only"], newcomer, 0) == "only for members in the Active stage"
    )
    assert (
        why_not(shop, items["emea"], newcomer, 0)
        == "only for members with attribute role == 'admin'"
    )
    admin = member(tier="platinum", stage="active", attributes={"region": "uk", "role": "admin"})
    assert [k for k, i in items.items() if why_not(shop, i, admin, 0) is not None] == []
    # a member without a tier yet is in the lowest one
    assert why_not(shop, items["top"], member(), 0) == "only for the Gold or Platinum tier"


def test_a_limit_counts_from_the_start_of_its_calendar_period_in_the_program_zone():
    shop = program(SOURCE)
    # 2026-10-31 23:30 UTC is already November in Berlin (UTC+1)
    now = int(datetime(2026, 10, 31, 23, 30, tzinfo=UTC).timestamp())
    start = limit_since(shop.rewards["monthly"], now, shop.zone)
    assert start == int(datetime(2026, 10, 31, 23, 0, tzinfo=UTC).timestamp())
    assert limit_since(shop.rewards["once"], now, shop.zone) == 0
    assert limit_since(shop.rewards["open"], now, shop.zone) is None


def test_bad_catalogue_items_are_named_by_their_path():
    errors = errors_of(
        """
        - {key: a, name: A, price: 0}
        - {key: a, name: A again, price: 5, tiers: [gld], stages: [x]}
        - {key: b, name: B, price: 5, value: {amount: -1, currency: eur}}
        - {key: c, name: C, price: 5, stock: -1, limit: {count: 0, per: week}}
        - {key: d, name: D, price: 5, fulfilment: email}
        - {key: e, name: E, price: 5, segment: [{property: x, eq: 1}]}
        """
    )
    text = "\n".join(errors)
    for expected in (
        "rewards[0].price: ",
        "rewards[1].key: ",
        "rewards[1].tiers[0]: unknown tier 'gld'",
        "rewards[1].stages[0]: unknown stage 'x'",
        "rewards[2].value.amount: ",
        "rewards[2].value.currency: ",
        "rewards[3].stock: ",
        "rewards[3].limit.count: ",
        "rewards[3].limit.per: ",
        "rewards[4].fulfilment: ",
        "rewards[5]: ",
    ):
        assert expected in text, (expected, errors)


def test_a_program_without_rewards_keeps_its_content_hash():
    base = load_program("key: p\nname: P\nactions: [{key: a, points: 1}]\n")
    same = load_program("key: p\nname: P\nactions: [{key: a, points: 1}]\nrewards: []\n")
    assert program_hash(base) == program_hash(same)
    assert "rewards" not in base.model_dump(by_alias=True, exclude_defaults=False, mode="json")


@pytest.mark.parametrize(
    ("key", "left", "redeemed", "spendable", "reason"),
    [
        ("open", None, 0, 10, None),
        ("open", 0, 0, 10_000, "out of stock"),
        ("open", 3, 0, 9, "needs 10 points; 9 can be spent now"),
        ("open", None, 0, -5, "needs 10 points; 0 can be spent now"),
        ("monthly", None, 2, 100, "limit reached: 2 times per month per member"),
        ("monthly", None, 1, 100, None),
        ("once", None, 1, 100, "limit reached: once per member"),
    ],
)
def test_an_eligible_item_is_blocked_by_stock_then_limit_then_balance(
    key: str, left: int | None, redeemed: int, spendable: int, reason: str | None
) -> None:
    item = program(SOURCE).rewards[key]

    assert blocked(item, left, redeemed, spendable) == reason
