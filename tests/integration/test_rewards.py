"""Rewards through the store: the catalogue a member sees, redeeming (balance only, never the
tier), approval and fulfilment, refunds, stock and unique codes, limits, idempotency, replay,
and concurrent redemptions that can neither overspend nor oversell."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from accolade.errors import (
    Conflict,
    InsufficientBalance,
    InvalidInput,
    NotFound,
    NotRedeemable,
)
from accolade.service import redemptions as redemption_service
from accolade.service import rewards
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.service.replay import replay
from accolade.service.reverse import reverse
from accolade.store.tables import redemptions, reward_codes
from accolade.store.unit_of_work import Store
from tests.programs import program_head

from .builders import assert_balances_match_ledger, clock_at, ledger_of, member_row, projection
from .builders import row_counts as all_row_counts

PROGRAM = (
    program_head("shop", "Shop", timezone="Europe/Berlin")
    + """
actions:
  - {key: review, event: review.posted, points: 500}
rewards:
  - {key: tshirt, name: T-shirt, price: 300, stock: 2, limit: {count: 1}}
  - key: gift_card
    name: Gift card
    price: 200
    fulfilment: code
    value: {amount: 2500, currency: EUR}
  - {key: advisory, name: Advisory board seat, price: 100, tiers: [gold], approval: true}
  - {key: trees, name: Plant a tree, price: 50, fulfilment: donation, limit: {count: 2, per: month}}
  - {key: emea_swag, name: EMEA swag, price: 10, segment: [{attribute: region, eq: emea}]}
  - {key: voucher, name: Event voucher, price: 100, fulfilment: code, approval: true}
"""
)
KEY = "shop"
NOW = datetime(2026, 9, 15, 10, tzinfo=UTC)


def earn(store: Store, member: str, reviews: int, *, region: str = "emea", start: int = 0) -> None:
    events = [
        {
            "id": f"{member}-review-{start + i}",
            "type": "review.posted",
            "member": member,
            "occurred_at": (NOW - timedelta(days=1, minutes=i)).isoformat(),
            "attributes": {"region": region},
        }
        for i in range(reviews)
    ]
    outcomes = ingest_batch(store, KEY, list(enumerate(events, 1)), clock=clock_at(NOW))
    assert all(o.status.value == "accepted" for o in outcomes), outcomes


def redeem(store: Store, member: str, reward: str, **kwargs: Any) -> redemption_service.Redemption:
    return rewards.redeem(store, KEY, member, reward, clock=clock_at(NOW), **kwargs)


def decide(store: Store, rid: str, decision: str, **kwargs: Any) -> redemption_service.Redemption:
    kwargs.setdefault("by", "admin@example.com")
    return redemption_service.decide(store, KEY, rid, decision, clock=clock_at(NOW), **kwargs)


def balance_and_lifetime(store: Store, member: str) -> tuple[int, int, str | None]:
    row = member_row(store, member)
    return int(row.balance), int(row.lifetime), row.tier


def add_codes(store: Store, reward: str, codes: list[str]) -> tuple[int, int]:
    return rewards.add_codes(store, KEY, reward, codes, clock=clock_at(NOW))


@pytest.fixture
def shop(store: Store) -> Store:
    publish(store, PROGRAM, clock=clock_at(NOW - timedelta(days=30)))
    return store


def test_redeeming_debits_the_balance_only_and_never_demotes(shop: Store) -> None:
    earn(shop, "alice", 2)  # 1,000 points: gold
    assert balance_and_lifetime(shop, "alice") == (1000, 1000, "gold")
    done = redeem(shop, "alice", "tshirt")
    assert (done.status, done.price, done.balance) == ("approved", 300, 700)
    # below gold's 1,000 in balance, still gold: tiers run on lifetime points
    assert balance_and_lifetime(shop, "alice") == (700, 1000, "gold")
    line = ledger_of(shop, "alice")[-1]
    assert (line.kind, line.rule, line.points, line.lifetime_points) == (
        "redemption",
        "reward:tshirt",
        -300,
        0,
    )
    assert line.reason == "redeemed T-shirt"
    fulfilled = decide(shop, done.redemption_id, "fulfil", note="shipped, tracking 123")
    assert (fulfilled.status, fulfilled.note) == ("fulfilled", "shipped, tracking 123")
    assert_balances_match_ledger(shop)


def test_the_catalogue_of_a_member_shows_what_they_may_redeem_and_why_not_now(
    shop: Store,
) -> None:
    earn(shop, "alice", 1)  # 500, bronze, emea
    earn(shop, "bob", 1, region="amer")
    everything = rewards.catalogue(shop, KEY)
    assert [i.key for i in everything] == [
        "tshirt",
        "gift_card",
        "advisory",
        "trees",
        "emea_swag",
        "voucher",
    ]
    assert [(i.left, i.redeemable) for i in everything[:2]] == [(2, None), (0, None)]
    assert everything[1].value == {"amount": 2500, "currency": "EUR"}

    mine = {i.key: i for i in rewards.catalogue(shop, KEY, "alice", clock=clock_at(NOW))}
    assert "advisory" not in mine  # gold only
    assert (mine["tshirt"].redeemable, mine["tshirt"].reason) == (True, None)
    assert (mine["gift_card"].redeemable, mine["gift_card"].reason) == (False, "out of stock")
    assert mine["emea_swag"].redeemable
    bobs = {i.key for i in rewards.catalogue(shop, KEY, "bob", clock=clock_at(NOW))}
    assert "emea_swag" not in bobs

    redeem(shop, "alice", "tshirt")
    after = {i.key: i for i in rewards.catalogue(shop, KEY, "alice", clock=clock_at(NOW))}
    assert after["tshirt"].reason == "limit reached: once per member"
    assert after["tshirt"].left == 1
    redeem(shop, "alice", "trees")
    redeem(shop, "alice", "trees")
    assert balance_and_lifetime(shop, "alice")[0] == 100
    after = {i.key: i for i in rewards.catalogue(shop, KEY, "alice", clock=clock_at(NOW))}
    assert after["trees"].reason == "limit reached: 2 times per month per member"
    assert after["emea_swag"].redeemable
    with pytest.raises(NotFound, match="no member 'nobody'"):
        rewards.catalogue(shop, KEY, "nobody")


def test_refused_redemptions_say_why_and_store_nothing(shop: Store) -> None:
    earn(shop, "alice", 1)  # 500 points, bronze
    earn(shop, "bob", 1, region="amer")
    before = all_row_counts(shop)
    cases: list[tuple[str, str, type[Exception], str]] = [
        ("alice", "advisory", NotRedeemable, "only for the Gold tier"),
        ("bob", "emea_swag", NotRedeemable, "only for members with attribute region == 'emea'"),
        ("alice", "gift_card", NotRedeemable, "out of stock"),
        ("alice", "nothing", NotFound, "no reward 'nothing' in the catalogue"),
        ("nobody", "tshirt", NotFound, "no member 'nobody'"),
    ]
    for member, reward, error, message in cases:
        with pytest.raises(error, match=message) as raised:
            redeem(shop, member, reward)
        assert raised.value.field in ("reward", "member")
    assert all_row_counts(shop) == before
    redeem(shop, "alice", "tshirt")
    with pytest.raises(NotRedeemable, match="limit reached: once per member"):
        redeem(shop, "alice", "tshirt")
    redeem(shop, "alice", "trees")
    redeem(shop, "alice", "trees")  # 500 - 300 - 100 = 100 left
    redeem(shop, "alice", "emea_swag")  # 90 left
    before = all_row_counts(shop)
    with pytest.raises(InsufficientBalance, match="costs 200 points; alice's balance is 90"):
        add_codes(shop, "gift_card", ["G-1"])
        redeem(shop, "alice", "gift_card")
    # the code added before the refusal stays in the pool; nothing else was written
    after = all_row_counts(shop)
    assert after.pop("reward_codes") == before.pop("reward_codes") + 1
    assert after == before
    with pytest.raises(InvalidInput, match="must not be empty"):
        redeem(shop, "alice", "tshirt", redemption_id="  ")


def test_stock_runs_out_and_comes_back_when_a_redemption_is_rejected(shop: Store) -> None:
    for member in ("alice", "bob", "carol"):
        earn(shop, member, 1)
    first = redeem(shop, "alice", "tshirt")
    redeem(shop, "bob", "tshirt")
    with pytest.raises(NotRedeemable, match="out of stock"):
        redeem(shop, "carol", "tshirt")
    rejected = decide(shop, first.redemption_id, "reject", note="address invalid")
    assert (rejected.status, rejected.balance, rejected.decided_by) == (
        "rejected",
        500,
        "admin@example.com",
    )
    refund = ledger_of(shop, "alice")[-1]
    assert (refund.kind, refund.points, refund.reason) == (
        "refund",
        300,
        "T-shirt refunded: address invalid",
    )
    assert redeem(shop, "carol", "tshirt").status == "approved"
    # the refunded member may redeem it again: a rejected redemption does not count
    with pytest.raises(NotRedeemable, match="out of stock"):
        redeem(shop, "alice", "tshirt")
    with pytest.raises(Conflict, match="is rejected; fulfil needs it approved"):
        decide(shop, first.redemption_id, "fulfil")
    assert decide(shop, first.redemption_id, "reject").duplicate
    assert_balances_match_ledger(shop)


def test_approval_comes_before_fulfilment_and_cancelling_refunds(shop: Store) -> None:
    earn(shop, "alice", 2)  # gold
    asked = redeem(shop, "alice", "advisory")
    assert (asked.status, asked.balance) == ("requested", 900)
    queue = redemption_service.redemptions(shop, KEY, status="requested")
    assert [r.redemption_id for r in queue.items] == [asked.redemption_id]
    with pytest.raises(Conflict, match="fulfil needs it approved"):
        decide(shop, asked.redemption_id, "fulfil")
    assert decide(shop, asked.redemption_id, "approve").status == "approved"
    assert redemption_service.redemptions(shop, KEY, status="requested").items == []
    assert decide(shop, asked.redemption_id, "fulfil").status == "fulfilled"
    with pytest.raises(Conflict, match="is fulfilled; cancel needs it requested or approved"):
        decide(shop, asked.redemption_id, "cancel")

    second = redeem(shop, "alice", "advisory")
    with pytest.raises(NotFound):  # somebody else's redemption is not theirs to cancel
        decide(shop, second.redemption_id, "cancel", by="bob", member="bob")
    cancelled = decide(shop, second.redemption_id, "cancel", by="alice", member="alice")
    assert (cancelled.status, cancelled.balance) == ("cancelled", 900)
    history = redemption_service.redemptions(shop, KEY, member="alice")
    assert [(r.reward, r.status) for r in history.items] == [
        ("advisory", "cancelled"),
        ("advisory", "fulfilled"),
    ]
    with pytest.raises(InvalidInput, match="unknown decision 'ship'"):
        decide(shop, second.redemption_id, "ship")


def test_unique_codes_are_handed_out_once_each(shop: Store) -> None:
    assert add_codes(shop, "gift_card", ["G-1", "G-2", "G-2", " "]) == (2, 2)
    assert add_codes(shop, "gift_card", ["G-2", "G-3"]) == (1, 3)
    with pytest.raises(InvalidInput, match="fulfilled by manual, not by codes"):
        add_codes(shop, "tshirt", ["X"])
    for member in ("alice", "bob", "carol", "dave"):
        earn(shop, member, 1)
    codes = [redeem(shop, m, "gift_card") for m in ("alice", "bob", "carol")]
    assert [(c.status, c.code) for c in codes] == [
        ("fulfilled", "G-1"),
        ("fulfilled", "G-2"),
        ("fulfilled", "G-3"),
    ]
    with pytest.raises(NotRedeemable, match="out of stock"):
        redeem(shop, "dave", "gift_card")
    with shop.engine.connect() as conn:
        given = conn.execute(select(reward_codes.c.code, reward_codes.c.redemption)).all()
    assert len({r.redemption for r in given}) == 3


def test_a_code_is_set_aside_at_the_request_and_shown_once_approved(shop: Store) -> None:
    add_codes(shop, "voucher", ["V-1"])
    earn(shop, "alice", 1)
    earn(shop, "bob", 1)
    asked = redeem(shop, "alice", "voucher")
    assert (asked.status, asked.code) == ("requested", None)
    with pytest.raises(NotRedeemable, match="out of stock"):
        redeem(shop, "bob", "voucher")
    rejected = decide(shop, asked.redemption_id, "reject")
    assert rejected.code is None
    again = redeem(shop, "bob", "voucher")
    approved = decide(shop, again.redemption_id, "approve")
    assert (approved.status, approved.code) == ("fulfilled", "V-1")
    assert redemption_service.redemption(shop, KEY, again.redemption_id).code == "V-1"


def test_the_same_redemption_id_redeems_once(shop: Store) -> None:
    earn(shop, "alice", 1)
    first = redeem(shop, "alice", "trees", redemption_id="order-1")
    again = redeem(shop, "alice", "trees", redemption_id="order-1")
    assert again.duplicate and again.redemption_id == first.redemption_id == "order-1"
    assert balance_and_lifetime(shop, "alice")[0] == 450
    with pytest.raises(Conflict, match="redemption 'order-1' was made before for alice"):
        redeem(shop, "alice", "tshirt", redemption_id="order-1")


def test_replay_rebuilds_balances_with_redemptions_and_refunds(shop: Store) -> None:
    earn(shop, "alice", 3)
    earn(shop, "bob", 1)
    add_codes(shop, "gift_card", ["G-1"])
    kept = redeem(shop, "alice", "tshirt")
    refunded = redeem(shop, "bob", "tshirt")
    redeem(shop, "alice", "gift_card")
    decide(shop, refunded.redemption_id, "reject", note="duplicate account")
    decide(shop, kept.redemption_id, "fulfil")
    earn(shop, "alice", 1, start=10)
    reverse(shop, KEY, "alice-review-0", "spam", clock=clock_at(NOW))
    before = projection(shop)
    replay(shop, KEY, clock=clock_at(NOW + timedelta(hours=1)))
    assert projection(shop) == before
    # four reviews, one reversed: 1,500 earned; 300 + 200 spent
    assert balance_and_lifetime(shop, "alice") == (1000, 1500, "gold")
    assert_balances_match_ledger(shop)


def test_reversing_spent_points_leaves_a_negative_balance_to_pay_back(shop: Store) -> None:
    earn(shop, "alice", 1)
    redeem(shop, "alice", "tshirt")  # 200 left
    reverse(shop, KEY, "alice-review-0", "fraudulent review", clock=clock_at(NOW))
    assert balance_and_lifetime(shop, "alice") == (-300, 0, "bronze")
    with pytest.raises(InsufficientBalance):
        redeem(shop, "alice", "trees")
    earn(shop, "alice", 1, start=5)
    assert balance_and_lifetime(shop, "alice")[0] == 200
    assert_balances_match_ledger(shop)


def test_concurrent_redemptions_neither_overspend_nor_oversell(store: Store) -> None:
    """60 redemptions at once, each on its own connection: one member with points for 5, one
    item with 8 units, and 10 other members racing for those units."""
    source = PROGRAM.replace(
        "  - {key: tshirt, name: T-shirt, price: 300, stock: 2, limit: {count: 1}}",
        "  - {key: tshirt, name: T-shirt, price: 100, stock: 8}",
    )
    publish(store, source, clock=clock_at(NOW - timedelta(days=30)))
    earn(store, "alice", 1)  # 500: five t-shirts
    others = [f"m{i}" for i in range(10)]
    for member in others:
        earn(store, member, 1)
    wide = _wide_store(store, 64)
    attempts = ["alice"] * 30 + others * 3
    barrier = threading.Barrier(len(attempts), timeout=60)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(member: str) -> None:
        barrier.wait()
        try:
            rewards.redeem(wide, KEY, member, "tshirt", clock=clock_at(NOW))
            outcome = f"ok:{member}"
        except (InsufficientBalance, NotRedeemable) as refused:
            outcome = f"{type(refused).__name__}:{member}"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(m,)) for m in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    wide.close()
    assert len(results) == len(attempts)
    granted = [r for r in results if r.startswith("ok:")]
    assert len(granted) == 8  # every unit, and not one more
    alice = granted.count("ok:alice")
    assert alice <= 5
    assert balance_and_lifetime(store, "alice")[0] == 500 - 100 * alice
    with store.engine.connect() as conn:
        held = conn.execute(select(func.count()).select_from(redemptions)).scalar_one()
        taken = conn.execute(text("SELECT taken FROM reward_stock")).scalar_one()
    assert held == taken == 8
    assert_balances_match_ledger(store)


def _wide_store(store: Store, connections: int) -> Store:
    """A second store on the same database with a connection for every thread."""
    if store.dialect == "sqlite":
        return Store.open(str(store.engine.url), pool_size=connections)
    with store.engine.connect() as conn:
        path = conn.execute(text("SHOW search_path")).scalar_one()
    engine = create_engine(
        store.engine.url,
        pool_size=connections,
        max_overflow=0,
        connect_args={"options": f"-csearch_path={path}"},
    )
    return Store(engine)


def test_redemption_times_are_stored_in_utc(shop: Store) -> None:
    earn(shop, "alice", 1)
    done = redeem(shop, "alice", "trees")
    assert done.requested_at == NOW.astimezone(UTC)


def test_a_refund_gives_back_the_stock_the_redemption_took_whatever_the_version_says(
    shop: Store,
) -> None:
    earn(shop, "alice", 1)
    earn(shop, "bob", 1)
    earn(shop, "carol", 1)
    unlimited = redeem(shop, "alice", "trees")  # trees has no stock in this version
    stocked = PROGRAM.replace(
        "fulfilment: donation, limit: {count: 2, per: month}}",
        "fulfilment: donation, stock: 1}",
    )
    publish(shop, stocked, clock=clock_at(NOW - timedelta(days=1)))
    redeem(shop, "bob", "trees")  # the one unit
    decide(shop, unlimited.redemption_id, "cancel")  # took no unit: gives none back
    with pytest.raises(NotRedeemable, match="out of stock"):
        redeem(shop, "carol", "trees")


def test_approving_a_code_item_again_returns_the_first_result(shop: Store) -> None:
    add_codes(shop, "voucher", ["V-1"])
    earn(shop, "alice", 1)
    asked = redeem(shop, "alice", "voucher")
    decide(shop, asked.redemption_id, "approve")
    again = decide(shop, asked.redemption_id, "approve")
    assert again.duplicate and (again.status, again.code) == ("fulfilled", "V-1")
