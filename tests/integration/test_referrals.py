"""Referrals through the store: stages sent as events the program pays for, deal value and the
pipeline per member and company, clawback by reversal, duplicates (first valid submission
wins), idempotency, replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from accolade.errors import Conflict, InvalidInput, NotFound
from accolade.service import referrals as ref
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.service.replay import replay
from accolade.store.unit_of_work import Store

from .builders import (
    assert_balances_match_ledger,
    badges_of,
    clock_at,
    ledger_of,
    member_row,
    projection,
    row_counts,
)

PROGRAM = """
key: refer
name: Referrals
actions:
  - {key: login, event: login, points: 1}
  - {key: referral_submitted, event: referral.submitted, points: 50}
  - {key: referral_qualified, event: referral.qualified, points: 500}
  - {key: referral_won, event: referral.won, points_from: {property: amount, per: 100}}
badges:
  - {key: rainmaker, name: Rainmaker, when: {action: referral_won}}
leaderboards:
  - {key: pipeline, name: Pipeline won, metric: {action: referral_won, sum: amount}}
"""
KEY = "refer"
NOW = datetime(2026, 10, 5, 9, tzinfo=UTC)


@pytest.fixture
def refer(store: Store) -> Store:
    publish(store, PROGRAM, clock=clock_at(NOW - timedelta(days=10)))
    joined = [
        {
            "id": f"login-{m}",
            "type": "login",
            "member": m,
            "occurred_at": (NOW - timedelta(days=1)).isoformat(),
            "company": company,
        }
        for m, company in (("alice", "Globex"), ("bob", "Globex"), ("carol", "Initech"))
    ]
    ingest_batch(store, KEY, list(enumerate(joined, 1)), clock=clock_at(NOW))
    return store


def submit(store: Store, member: str, prospect: str, **kwargs: Any) -> ref.Referral:
    return ref.submit(store, KEY, member, prospect, clock=clock_at(NOW), **kwargs)


def move(store: Store, rid: str, to: str, **kwargs: Any) -> ref.Referral:
    return ref.move(store, KEY, rid, to, clock=clock_at(NOW + timedelta(hours=1)), **kwargs)


def points(store: Store, member: str) -> tuple[int, int]:
    row = member_row(store, member)
    return int(row.balance), int(row.lifetime)


def test_each_stage_reached_pays_what_the_program_says(refer: Store) -> None:
    done = submit(refer, "alice", "Acme Inc", domain="acme.com", contact_email="Jo@Acme.com")
    assert (done.status, done.sent) == ("submitted", [f"referral:{done.referral_id}:submitted"])
    assert (done.company, done.contact_email) == ("Globex", "jo@acme.com")
    rid = done.referral_id
    assert points(refer, "alice") == (51, 51)
    assert move(refer, rid, "qualify").sent == [
        f"referral:{rid}:accepted",
        f"referral:{rid}:qualified",
    ]
    opp = move(refer, rid, "opportunity", amount="20000", currency="USD")
    assert (opp.status, opp.amount, opp.currency) == ("opportunity", Decimal("20000.00"), "USD")
    won = move(refer, rid, "win", amount=25000.5, currency="USD")
    assert won.sent == [f"referral:{rid}:won"]
    assert points(refer, "alice") == (51 + 500 + 250, 801)
    last = ledger_of(refer, "alice")[-2]
    assert (last.rule, last.points) == ("action:referral_won", 250)
    assert ("rainmaker", "", f"referral:{rid}:won") == badges_of(refer, "alice")[0]
    with pytest.raises(Conflict, match="is won already"):
        move(refer, rid, "qualify")
    # the same move again changes nothing
    again = move(refer, rid, "win", amount=25000.5, currency="USD")
    assert again.duplicate and points(refer, "alice")[0] == 801
    assert_balances_match_ledger(refer)


def test_the_pipeline_per_member_and_company(refer: Store) -> None:
    a = submit(refer, "alice", "Acme", domain="acme.com").referral_id
    b = submit(refer, "bob", "Hooli", domain="hooli.com").referral_id
    c = submit(refer, "carol", "Umbrella", domain="umbrella.com").referral_id
    submit(refer, "alice", "Soylent", domain="soylent.com")
    move(refer, a, "win", amount=10000, currency="USD")
    move(refer, b, "opportunity", amount=5000, currency="EUR")
    move(refer, c, "opportunity", amount=7000, currency="USD")
    move(refer, c, "lose", reason="went with a competitor")
    by_member = {p.key: p for p in ref.pipeline(refer, KEY, "member")}
    alice = by_member["alice"]
    assert (alice.referrals, alice.qualified, alice.won, alice.open) == (2, 1, 1, 0)
    assert alice.won_amount == {"USD": Decimal("10000")}
    assert by_member["bob"].pipeline == {"EUR": Decimal("5000")}
    assert (by_member["carol"].open, by_member["carol"].won) == (0, 0)
    companies = ref.pipeline(refer, KEY, "company")
    assert [(p.key, p.referrals, p.won) for p in companies] == [
        ("Globex", 3, 1),
        ("Initech", 1, 0),
    ]
    with pytest.raises(InvalidInput, match="one of member, team, company"):
        ref.pipeline(refer, KEY, "region")


def test_disqualifying_claws_back_everything_the_referral_paid(refer: Store) -> None:
    rid = submit(refer, "alice", "Acme", domain="acme.com").referral_id
    move(refer, rid, "win", amount=30000, currency="USD")
    assert points(refer, "alice") == (1 + 50 + 500 + 300, 851)
    out = move(refer, rid, "disqualify", reason="the prospect was already a customer")
    assert out.status == "disqualified" and len(out.reversed) == 5
    assert points(refer, "alice") == (1, 1)
    assert badges_of(refer, "alice") == []
    taken = [(line.rule, line.reason) for line in ledger_of(refer, "alice")[-4:]]
    why = f"referral {rid} disqualified: the prospect was already a customer"
    assert taken == [
        ("action:referral_submitted", f"reversal of event referral:{rid}:submitted: {why}"),
        ("action:referral_qualified", f"reversal of event referral:{rid}:qualified: {why}"),
        ("action:referral_won", f"reversal of event referral:{rid}:won: {why}"),
        ("badge:rainmaker", f"no longer earned after reversal of event referral:{rid}:won: {why}"),
    ]
    with pytest.raises(Conflict, match="is disqualified"):
        move(refer, rid, "win", amount=1, currency="USD")
    assert_balances_match_ledger(refer)


def test_a_deal_lost_after_it_was_won_takes_back_the_won_reward_only(refer: Store) -> None:
    rid = submit(refer, "alice", "Acme", domain="acme.com").referral_id
    move(refer, rid, "win", amount=10000, currency="USD")
    lost = move(refer, rid, "lose", reason="contract cancelled in the trial period")
    assert lost.reversed == [f"referral:{rid}:won"]
    assert points(refer, "alice") == (1 + 50 + 500, 551)
    other = submit(refer, "bob", "Hooli", domain="hooli.com").referral_id
    move(refer, other, "qualify")
    before = points(refer, "bob")
    assert move(refer, other, "lose", reason="no budget").reversed == []
    assert points(refer, "bob") == before


def test_the_first_valid_referral_of_a_prospect_counts(refer: Store) -> None:
    first = submit(refer, "alice", "ACME Inc.", contact_email="jo@acme.com").referral_id
    dup = submit(refer, "bob", "Acme", domain="https://www.acme.com/")
    assert (dup.status, dup.duplicate_of, dup.sent) == ("duplicate", first, [])
    assert points(refer, "bob") == (1, 1)
    with pytest.raises(Conflict, match="is a duplicate of"):
        move(refer, dup.referral_id, "qualify")
    by_name = submit(refer, "carol", "Initrode GmbH")
    assert submit(refer, "alice", "initrode").duplicate_of == by_name.referral_id
    move(refer, first, "disqualify", reason="existing customer")
    again = submit(refer, "carol", "Acme", domain="acme.com")
    assert again.status == "submitted"


def test_a_contact_on_a_subdomain_is_a_duplicate_of_the_domain(refer: Store) -> None:
    first = submit(refer, "alice", "Acme", domain="acme.com").referral_id
    dup = submit(refer, "bob", "Acme Sales", contact_email="jo@sales.acme.com")
    assert (dup.status, dup.duplicate_of, dup.sent) == ("duplicate", first, [])
    uk = submit(refer, "carol", "Acme UK", domain="https://eu.acme.co.uk/").referral_id
    assert submit(refer, "bob", "Acme Britain", contact_email="ann@acme.co.uk").duplicate_of == uk
    # a public suffix's own customers are told apart: acme.github.io is not other.github.io
    page = submit(refer, "alice", "Page", domain="acme.github.io")
    assert submit(refer, "bob", "Other", domain="other.github.io").status == "submitted"
    assert page.status == "submitted"


def test_a_legal_form_accents_or_punctuation_do_not_hide_a_duplicate(refer: Store) -> None:
    first = submit(refer, "alice", "Acme S.A.").referral_id
    for name in ("acme", "ACME, Inc.", "Acme & Co.", "Acme B.V."):
        assert submit(refer, "bob", name).duplicate_of == first, name
    societe = submit(refer, "carol", "Société Générale").referral_id
    assert submit(refer, "bob", "Societe Generale SA").duplicate_of == societe


def test_a_deal_amount_has_its_currencys_places(refer: Store) -> None:
    yen = submit(refer, "alice", "Acme", domain="acme.com").referral_id
    won = move(refer, yen, "win", amount="1250000", currency="JPY")
    assert (str(won.amount), won.currency) == ("1250000", "JPY")
    assert ledger_of(refer, "alice")[-2].points == 12500  # per 100 of the amount, in yen
    dinar = submit(refer, "bob", "Hooli", domain="hooli.com").referral_id
    assert str(move(refer, dinar, "opportunity", amount="1234.567", currency="KWD").amount) == (
        "1234.567"
    )
    by_member = {p.key: p for p in ref.pipeline(refer, KEY, "member")}
    assert by_member["alice"].won_amount == {"JPY": Decimal("1250000")}
    assert str(by_member["bob"].pipeline["KWD"]) == "1234.567"


def test_an_amount_the_currency_cannot_hold_or_an_unknown_code_is_refused(refer: Store) -> None:
    rid = submit(refer, "alice", "Acme", domain="acme.com").referral_id
    before = row_counts(refer)
    cases = [
        ("12500.5", "JPY", "amount", "JPY amounts have no decimals"),
        ("1.2345", "KWD", "amount", "KWD amounts have at most 3 decimal places"),
        ("10.001", "USD", "amount", "USD amounts have at most 2 decimal places"),
        ("10", "ABC", "currency", "'ABC' is not an ISO 4217 currency code"),
        ("10", "XAU", "currency", "without minor units"),
    ]
    for amount, currency, field, message in cases:
        with pytest.raises(InvalidInput, match=message) as raised:
            move(refer, rid, "win", amount=amount, currency=currency)
        assert raised.value.field == field
    assert row_counts(refer) == before
    assert ref.referral(refer, KEY, rid).status == "submitted"


def test_refusals_name_the_field_and_store_nothing(refer: Store) -> None:
    rid = submit(refer, "alice", "Acme", domain="acme.com").referral_id
    before = row_counts(refer)
    cases: list[tuple[Any, type[Exception], str, str]] = [
        (lambda: submit(refer, "nobody", "X"), NotFound, "member", "no member 'nobody'"),
        (lambda: submit(refer, "alice", "  "), InvalidInput, "prospect", "must not be empty"),
        (lambda: submit(refer, "alice", "X", domain="acme"), InvalidInput, "domain", "not a"),
        (
            lambda: submit(refer, "alice", "X", contact_email="jo"),
            InvalidInput,
            "contact_email",
            "not an e-mail",
        ),
        (
            lambda: submit(refer, "alice", "X", referral_id="a:b"),
            InvalidInput,
            "referral_id",
            "':'",
        ),
        (lambda: move(refer, rid, "ship"), InvalidInput, "move", "unknown move 'ship'"),
        (lambda: move(refer, rid, "win"), InvalidInput, "amount", "needs its amount"),
        (
            lambda: move(refer, rid, "win", amount=5, currency="usd"),
            InvalidInput,
            "currency",
            "ISO 4217",
        ),
        (lambda: move(refer, rid, "win", amount=-1, currency="USD"), InvalidInput, "amount", "0"),
        (lambda: move(refer, rid, "lose"), InvalidInput, "reason", "say why"),
        (lambda: move(refer, "nope", "qualify"), NotFound, "referral_id", "no referral"),
    ]
    for call, error, field, message in cases:
        with pytest.raises(error, match=message) as raised:
            call()
        assert raised.value.field == field  # type: ignore[attr-defined]
    assert row_counts(refer) == before
    move(refer, rid, "qualify")
    with pytest.raises(Conflict, match="does not go back to accepted"):
        move(refer, rid, "accept")


def test_the_same_referral_id_submits_once(refer: Store) -> None:
    first = submit(refer, "alice", "Acme", referral_id="crm-42")
    again = submit(refer, "alice", "Acme", referral_id="crm-42")
    assert again.duplicate and again.referral_id == first.referral_id == "crm-42"
    assert points(refer, "alice") == (51, 51)
    with pytest.raises(Conflict, match="submitted before by alice"):
        submit(refer, "bob", "Acme", referral_id="crm-42")
    page = ref.referrals(refer, KEY, member="alice")
    assert [r.referral_id for r in page.items] == ["crm-42"]


def test_referral_events_cannot_be_sent_from_outside(refer: Store) -> None:
    fake = {
        "id": "fake",
        "type": "referral.won",
        "member": "alice",
        "occurred_at": NOW.isoformat(),
        "properties": {"amount": 1_000_000},
    }
    [outcome] = ingest_batch(refer, KEY, [(1, fake)], clock=clock_at(NOW))
    assert outcome.status.value == "rejected"
    assert "sent by Accolade itself" in str(outcome.error)


def test_replay_rebuilds_referral_points_and_clawbacks(refer: Store) -> None:
    a = submit(refer, "alice", "Acme", domain="acme.com").referral_id
    b = submit(refer, "bob", "Hooli", domain="hooli.com").referral_id
    move(refer, a, "win", amount=12345.67, currency="USD")
    move(refer, b, "win", amount=500, currency="EUR")
    move(refer, b, "disqualify", reason="self-referral")
    before = projection(refer)
    replay(refer, KEY, clock=clock_at(NOW + timedelta(days=1)))
    assert projection(refer) == before
    assert points(refer, "alice") == (1 + 50 + 500 + 123, 674)


def test_stage_events_leave_the_members_team_and_company_as_they_are_now(refer: Store) -> None:
    rid = submit(refer, "alice", "Acme", domain="acme.com").referral_id
    moved = {
        "id": "moved",
        "type": "login",
        "member": "alice",
        "occurred_at": NOW.isoformat(),
        "company": "Initech",
    }
    ingest_batch(refer, KEY, [(1, moved)], clock=clock_at(NOW))
    move(refer, rid, "win", amount=100, currency="USD")
    assert member_row(refer, "alice").company == "Initech"
    # the pipeline still credits the company the member referred from
    assert [p.key for p in ref.pipeline(refer, KEY, "company")] == ["Globex"]


def test_two_members_referring_one_prospect_at_once_make_one_valid_referral(
    refer: Store,
) -> None:
    import threading

    people = [f"p{i}" for i in range(6)]
    joined = [
        {"id": f"login-{m}", "type": "login", "member": m, "occurred_at": NOW.isoformat()}
        for m in people
    ]
    ingest_batch(refer, KEY, list(enumerate(joined, 1)), clock=clock_at(NOW))
    barrier = threading.Barrier(len(people))
    statuses: list[str] = []

    def refer_acme(member: str) -> None:
        barrier.wait()
        statuses.append(submit(refer, member, "Acme", domain="acme.com").status)

    threads = [threading.Thread(target=refer_acme, args=(m,)) for m in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == ["duplicate"] * 5 + ["submitted"]
