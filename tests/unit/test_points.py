"""Points: fixed, derived from a property, and multiplied by tier or attribute (half rounds up)."""

from __future__ import annotations

from typing import Any

import pytest

from accolade.errors import InvalidEvent
from tests.unit.builders import demo, event, member, one_action, program, run

DEAL = {"points_from": {"property": "amount_usd", "per": 100, "points": 1, "max": 20000}}


def test_fixed_points_are_earned_with_their_reason():
    evaluation = run(one_action(points=10), [event()]).last
    [earn] = [e for e in evaluation.entries if e.kind.value == "earn"]
    assert (earn.rule, earn.points, earn.reason) == ("action:act", 10, "10 points")
    assert evaluation.status.value == "accepted"


def test_an_action_may_name_its_event_type():
    prog = program({"actions": [{"key": "quiz_passed", "event": "quiz.passed", "points": 100}]})
    assert run(prog, [event("quiz.passed")]).last.points == 100


def test_one_point_per_100_usd():
    evaluation = run(one_action(**DEAL), [event(properties={"amount_usd": 12_345})]).last
    assert evaluation.points == 123


def test_points_from_a_fractional_amount_round_down_to_whole_blocks():
    evaluation = run(one_action(**DEAL), [event(properties={"amount_usd": 199.99})]).last
    assert evaluation.points == 1


def test_points_from_a_property_stop_at_the_max():
    evaluation = run(one_action(**DEAL), [event(properties={"amount_usd": 5_000_000})]).last
    assert evaluation.points == 20_000


def test_points_from_give_several_points_per_block():
    prog = one_action(points_from={"property": "seats", "per": 1, "points": 5})
    assert run(prog, [event(properties={"seats": 7})]).last.points == 35


@pytest.mark.parametrize(
    "properties", [{}, {"amount_usd": "12000"}, {"amount_usd": True}, {"amount_usd": -100}]
)
def test_missing_or_bad_points_property_is_an_invalid_event_naming_it(properties: dict[str, Any]):
    with pytest.raises(InvalidEvent) as caught:
        run(one_action(**DEAL), [event(properties=properties)])
    assert caught.value.field == "properties.amount_usd"
    assert "action 'act' derives its points from it" in caught.value.message


@pytest.mark.parametrize("amount", [float("nan"), float("inf")])
def test_non_finite_points_property_is_an_invalid_event_naming_it(amount: float):
    with pytest.raises(InvalidEvent) as caught:
        run(one_action(**DEAL), [event(properties={"amount_usd": amount})])
    assert caught.value.field == "properties.amount_usd"


GOLD_BONUS = """
key: p
name: P
actions:
  - key: lead
    points: 500
    multipliers:
      - {tier: gold, factor: 1.2}
      - {tier: platinum, factor: 1.5}
tiers:
  - {key: bronze, name: Bronze, min_points: 0}
  - {key: gold, name: Gold, min_points: 20000}
  - {key: platinum, name: Platinum, min_points: 50000}
"""


def test_gold_member_earns_the_gold_multiplier_and_sees_how():
    gold = member(tier="gold", lifetime=20_000)
    evaluation = run(program(GOLD_BONUS), [event("lead")], gold).last
    [earn] = [e for e in evaluation.entries if e.kind.value == "earn"]
    assert (earn.points, earn.reason) == (600, "500 x1.2 (gold) = 600")


def test_other_tiers_multiplier_does_not_apply():
    platinum = member(tier="platinum", lifetime=50_000)
    assert run(program(GOLD_BONUS), [event("lead")], platinum).last.points == 750


def test_new_member_earns_without_a_tier_multiplier():
    assert run(program(GOLD_BONUS), [event("lead")]).last.points == 500


def test_tier_multiplier_uses_the_tier_held_before_the_event():
    # This lead lifts the member into Gold; it is still paid at the Silver rate.
    silver = member(tier="bronze", lifetime=19_900)
    evaluation = run(program(GOLD_BONUS), [event("lead")], silver).last
    assert evaluation.points == 500
    assert evaluation.state.tier == "gold"


def emea_bonus(points: int, factor: float) -> dict[str, Any]:
    condition = {"attribute": "region", "eq": "EMEA"}
    return {"points": points, "multipliers": [{"factor": factor, "conditions": [condition]}]}


def test_attribute_multiplier_rounds_half_up():
    prog = one_action(**emea_bonus(3, 1.5))
    evaluation = run(prog, [event(attributes={"region": "EMEA"})]).last
    [earn] = [e for e in evaluation.entries if e.kind.value == "earn"]
    assert (earn.points, earn.reason) == (5, "3 x1.5 = 5")


def test_halving_five_points_rounds_up_to_three():
    prog = one_action(**emea_bonus(5, 0.5))
    assert run(prog, [event(attributes={"region": "EMEA"})]).last.points == 3


def test_attribute_multiplier_skips_members_who_do_not_match():
    prog = one_action(**emea_bonus(10, 2))
    assert run(prog, [event(attributes={"region": "NA"})]).last.points == 10


def test_multipliers_that_both_apply_compound():
    prog = program(
        {
            "actions": [
                {
                    "key": "act",
                    "points": 10,
                    "multipliers": [
                        {"tier": "gold", "factor": 1.5},
                        {"factor": 2, "conditions": [{"property": "launch", "eq": True}]},
                    ],
                }
            ],
            "tiers": [
                {"key": "bronze", "name": "Bronze", "min_points": 0},
                {"key": "gold", "name": "Gold", "min_points": 100},
            ],
        }
    )
    gold = member(tier="gold", lifetime=100)
    evaluation = run(prog, [event(properties={"launch": True})], gold).last
    [earn] = [e for e in evaluation.entries if e.kind.value == "earn"]
    assert (earn.points, earn.reason) == (30, "10 x1.5 (gold) x2 = 30")


def test_demo_lead_must_be_qualified_to_earn():
    result = run(
        demo(),
        [
            event("lead.registered", properties={"qualified": False}),
            event("lead.registered", properties={"qualified": True}),
        ],
    )
    assert [ev.points for ev in result.evaluations] == [0, 500]


def test_earned_points_raise_balance_and_lifetime_alike():
    state = run(one_action(points=10), [event(), event()]).state
    assert (state.balance, state.lifetime) == (20, 20)
