"""The reads a member's account pages make (issue 21), on both databases: the ledger filtered by
kind, rule and days in the program's zone, one entry explained (and nobody else's), the points
each referral holds, the reference asks addressed to a member, the catalogue with the items a
member is not eligible for."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from accolade.errors import InvalidInput, NotFound
from accolade.service import members, references, referrals, rewards
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.store.unit_of_work import Store

from .builders import clock_at

SOURCE = (Path(__file__).parents[2] / "examples" / "rewards.yaml").read_text()
KEY = "advocates_store"  # Europe/Berlin
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def posted(id: str, member: str, at: datetime, type: str = "review.posted") -> dict[str, Any]:
    return {
        "id": id,
        "type": type,
        "member": member,
        "occurred_at": at.isoformat(),
        "properties": {"site": "g2"},
    }


@pytest.fixture
def shop(store: Store) -> Store:
    publish(store, SOURCE, clock=clock_at(NOW - timedelta(days=30)))
    sent = [
        # 23:30 UTC on 10 May is 01:30 on 11 May in Berlin
        posted("r1", "alice", datetime(2026, 5, 10, 23, 30, tzinfo=UTC)),
        posted("s1", "alice", datetime(2026, 5, 12, 9, tzinfo=UTC), "story.submitted"),
        posted("r2", "alice", datetime(2026, 5, 14, 9, tzinfo=UTC)),
        posted("b1", "bob", datetime(2026, 5, 14, 9, tzinfo=UTC)),
    ]
    outcomes = ingest_batch(store, KEY, list(enumerate(sent, 1)), clock=clock_at(NOW))
    assert all(o.status.value == "accepted" for o in outcomes)
    return store


def rules_of(lines: list[members.EntryLine]) -> list[tuple[str, str]]:
    return [(line.event_id, line.rule) for line in lines]


def test_the_ledger_filters_by_rule_and_kind_newest_first(shop: Store) -> None:
    reviews = members.ledger_page(shop, KEY, "alice", None, 10, rule="action:review_posted")
    assert rules_of(reviews) == [("r2", "action:review_posted"), ("r1", "action:review_posted")]
    earned = members.ledger_page(shop, KEY, "alice", None, 10, kind="earn")
    assert [line.event_id for line in earned] == ["r2", "s1", "r1"]
    assert members.ledger_page(shop, KEY, "alice", None, 10, kind="refund") == []


def test_the_ledger_filters_by_days_in_the_programs_zone(shop: Store) -> None:
    on_the_11th = members.ledger_page(
        shop, KEY, "alice", None, 10, from_day=date(2026, 5, 11), to_day=date(2026, 5, 11)
    )
    assert {line.event_id for line in on_the_11th} == {"r1"}  # 10 May in UTC
    from_12th = members.ledger_page(shop, KEY, "alice", None, 10, from_day=date(2026, 5, 12))
    assert {line.event_id for line in from_12th} == {"s1", "r2"}
    up_to_10th = members.ledger_page(shop, KEY, "alice", None, 10, to_day=date(2026, 5, 10))
    assert up_to_10th == []


def test_a_bad_filter_names_its_field(shop: Store) -> None:
    with pytest.raises(InvalidInput) as raised:
        members.ledger_page(shop, KEY, "alice", None, 10, kind="gift")
    assert raised.value.field == "kind"
    with pytest.raises(InvalidInput) as raised:
        members.ledger_page(
            shop, KEY, "alice", None, 10, from_day=date(2026, 5, 2), to_day=date(2026, 5, 1)
        )
    assert raised.value.field == "to_day"


def test_the_rules_a_history_can_be_filtered_by_are_the_members_own(shop: Store) -> None:
    found = members.ledger_rules(shop, KEY, "alice")
    assert ("earn", "action:review_posted") in found and ("earn", "action:story_submitted") in found
    assert members.ledger_rules(shop, KEY, "bob") == [
        ("earn", "action:review_posted"),
        ("tier", "tier:member"),
    ]


def test_rules_are_named_as_the_program_names_them(shop: Store) -> None:
    names = members.rule_names(shop, KEY)
    assert names["action:review_posted"] == "review_posted"  # an action without a name
    assert names["badge:rainmaker"] == "Rainmaker"
    assert names["tier:gold"] == "Gold"
    assert names["reward:tshirt"] == "Advocate T-shirt"


def test_an_entry_is_explained_by_its_event_and_rule(shop: Store) -> None:
    [line] = members.ledger_page(shop, KEY, "alice", None, 1, rule="action:story_submitted")
    explained = members.explain_entry(shop, KEY, "alice", line.id)
    assert explained.line == line
    assert explained.source == "event"
    assert explained.properties == {"site": "g2"}
    assert (line.event_type, line.points, line.version) == ("story.submitted", 2500, 1)


def test_another_members_entry_is_not_found(shop: Store) -> None:
    [bobs] = members.ledger_page(shop, KEY, "bob", None, 1)
    with pytest.raises(NotFound) as raised:
        members.explain_entry(shop, KEY, "alice", bobs.id)
    assert raised.value.field == "entry_id"


def test_a_redemptions_entry_is_explained_by_its_redemption(shop: Store) -> None:
    rewards.redeem(shop, KEY, "alice", "trees", redemption_id="rdm-1", clock=clock_at(NOW))
    [line] = members.ledger_page(shop, KEY, "alice", None, 1, kind="redemption")
    explained = members.explain_entry(shop, KEY, "alice", line.id)
    assert explained.source == "redemption"
    assert explained.properties["reward"] == "trees"
    assert explained.properties["points"] == -1000


def test_each_referral_holds_the_points_its_stages_earned_net_of_clawback(shop: Store) -> None:
    later = clock_at(NOW + timedelta(hours=1))
    won = referrals.submit(shop, KEY, "alice", "Acme", referral_id="ref-a", clock=clock_at(NOW))
    lost = referrals.submit(shop, KEY, "alice", "Globex", referral_id="ref-b", clock=clock_at(NOW))
    referrals.submit(shop, KEY, "bob", "Initech", referral_id="ref-c", clock=clock_at(NOW))
    referrals.move(shop, KEY, won.referral_id, "win", amount="20000", currency="EUR", clock=later)
    referrals.move(shop, KEY, lost.referral_id, "disqualify", reason="a partner", clock=later)

    # submitted 100 + qualified 500 + won 1% of 20,000 EUR; the disqualified one took its back
    assert referrals.referral_points(shop, KEY, "alice") == {"ref-a": 100 + 500 + 200}
    assert referrals.referral_points(shop, KEY, "bob") == {"ref-c": 100}


def test_a_member_sees_the_reference_asks_addressed_to_them(shop: Store) -> None:
    made = references.request(
        shop, KEY, {}, requested_by="rep@acme.com", note="A fintech call", request_id="rr-1",
        clock=clock_at(NOW),
    )  # fmt: skip
    references.ask(shop, KEY, made.request_id, ["alice"], clock=clock_at(NOW))
    references.answer(shop, KEY, "rr-1", "alice", "decline", clock=clock_at(NOW))

    mine = references.asks_of(shop, KEY, "alice")
    assert mine.takes_references and not mine.opted_out
    [asked] = mine.asks
    assert (asked.request_id, asked.requested_by, asked.note, asked.status) == (
        "rr-1",
        "rep@acme.com",
        "A fintech call",
        "declined",
    )
    assert references.asks_of(shop, KEY, "bob").asks == []


def test_the_reference_opt_out_is_read_as_asking_reads_it(shop: Store) -> None:
    members.update(shop, KEY, "bob", attributes={"reference_opt_out": True}, clock=clock_at(NOW))
    assert references.asks_of(shop, KEY, "bob").opted_out
    members.update(shop, KEY, "bob", attributes={"reference_opt_out": False}, clock=clock_at(NOW))
    assert not references.asks_of(shop, KEY, "bob").opted_out


def test_the_asks_of_an_unknown_member_are_not_found(shop: Store) -> None:
    with pytest.raises(NotFound):
        references.asks_of(shop, KEY, "nobody")


def test_the_whole_catalogue_says_why_an_item_is_not_for_the_member(shop: Store) -> None:
    eligible = {o.key for o in rewards.catalogue(shop, KEY, "alice", clock=clock_at(NOW))}
    every = {o.key: o for o in rewards.catalogue(shop, KEY, "alice", everything=True)}
    assert "speaker_slot" not in eligible and set(every) > eligible
    slot = every["speaker_slot"]
    assert slot.redeemable is False
    assert slot.reason == "only for the Gold or Platinum tier"
    assert every["trees"].redeemable is True  # alice has 4,500 points
    bobs = {o.key: o for o in rewards.catalogue(shop, KEY, "bob", everything=True)}
    assert bobs["software_credit"].reason == "needs 4,000 points; 1,000 can be spent now"
