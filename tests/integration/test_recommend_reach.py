"""Candidates the store rules out, through the store: a reward out of stock, over the member's
limit or beyond their spendable points is not recommended, nor is a reference or referral ask
to a member at the program's fatigue limit, nor a reference ask to a member who opted out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from accolade.service import references as refs
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.service.recommend import next_actions
from accolade.service.rewards import redeem
from accolade.store.unit_of_work import Store
from tests.programs import program_head

from .builders import clock_at

PROGRAM = (
    program_head("reach", "Within reach")
    + """
actions:
  - {key: login, event: login, points: 100}
  - {key: reference_call, event: reference.completed, points: 300}
  - {key: referral_submitted, event: referral.submitted, points: 50}
rewards:
  - {key: mug, name: Mug, price: 10, stock: 1}
  - {key: hat, name: Hat, price: 10, limit: {count: 1, per: ever}}
  - {key: pin, name: Pin, price: 10}
  - {key: jacket, name: Jacket, price: 95}
references:
  match: [industry]
  limits:
    - {count: 1, within: 30d}
recommendations:
  exploration: 0
"""
)
KEY = "reach"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def login(member: str, **attributes: Any) -> dict[str, Any]:
    return {
        "id": f"login-{member}",
        "type": "login",
        "member": member,
        "occurred_at": (NOW - DAY).isoformat(),
        "attributes": {"industry": "fintech", **attributes},
    }


def start(store: Store, *members: dict[str, Any]) -> None:
    publish(store, PROGRAM, clock=clock_at(NOW - 30 * DAY))
    outcomes = ingest_batch(store, KEY, list(enumerate(members, 1)), clock=clock_at(NOW))
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes]


def keys(store: Store, member: str, when: datetime = NOW) -> set[str]:
    found = next_actions(store, KEY, member, limit=50, clock=clock_at(when))
    return {r.key for r in found.recommendations}


def test_a_fresh_member_is_offered_every_reward_and_ask_within_their_balance(store):
    start(store, login("ann"))
    assert {
        "reward:mug",
        "reward:hat",
        "reward:pin",
        "reward:jacket",
        "action:reference_call",
        "action:referral_submitted",
    } <= keys(store, "ann")


def test_a_reward_out_of_stock_or_over_the_member_s_limit_is_not_recommended(store):
    start(store, login("ann"), login("bob"))
    redeem(store, KEY, "bob", "mug", clock=clock_at(NOW))  # the only one
    redeem(store, KEY, "ann", "hat", clock=clock_at(NOW))  # once ever
    found = keys(store, "ann", NOW + timedelta(minutes=1))
    assert "reward:mug" not in found and "reward:hat" not in found
    assert "reward:pin" in found
    # 90 points left: the jacket (95) is beyond them, as the engine already knows
    assert "reward:jacket" not in found


def test_a_member_at_a_fatigue_limit_is_not_asked_for_references_or_referrals(store):
    start(store, login("ann"), login("bob"))
    refs.request(
        store,
        KEY,
        {"industry": "fintech"},
        requested_by="rep",
        request_id="deal-1",
        clock=clock_at(NOW),
    )
    refs.ask(store, KEY, "deal-1", ["ann"], clock=clock_at(NOW))
    tired = keys(store, "ann", NOW + DAY)
    assert "action:reference_call" not in tired
    assert "action:referral_submitted" not in tired
    assert "action:login" in tired
    assert {"action:reference_call", "action:referral_submitted"} <= keys(store, "bob", NOW + DAY)
    # once the 30 days have passed, ann may be asked again
    assert "action:reference_call" in keys(store, "ann", NOW + 31 * DAY)


def test_a_member_who_opted_out_gets_no_reference_asks_but_referral_asks(store):
    start(store, login("ann", reference_opt_out=True))
    found = keys(store, "ann")
    assert "action:reference_call" not in found
    assert "action:referral_submitted" in found
