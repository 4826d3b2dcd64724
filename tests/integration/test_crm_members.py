"""Members' current values (tier, lifetime points, badges, ...) synced to HubSpot contacts and
Salesforce records, against local servers speaking each protocol, on SQLite and PostgreSQL:
upserted by email or updated by the CRM's record id, several messages of one member collapsed
into one upsert, only changed properties sent again, a member without a key dead with why,
and a bad member mapping refused at validate with its path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from accolade.errors import InvalidProgram
from accolade.integrations.hubspot import UPDATE_PATH, UPSERT_PATH, client_from, sync_hubspot
from accolade.integrations.salesforce import SalesforceClient, sync_salesforce
from accolade.program.loader import load_program
from accolade.service import referrals
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.settings import Settings
from accolade.store.tables import webhook_deliveries, webhook_subscriptions
from tests.integration import loopback
from tests.integration.builders import DEMO_SOURCE, MONDAY, NOW

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
HUBSPOT_MAPPING = """
integrations:
  hubspot:
    id_attribute: hubspot_id
    member_properties:
      tier: accolade_tier
      lifetime_points: accolade_lifetime_points
      balance: accolade_balance
      badges_count: accolade_badges
      last_activity: accolade_last_activity
      referral_pipeline: accolade_pipeline
      attributes.region: accolade_region
"""
SALESFORCE_MAPPING = """
integrations:
  salesforce:
    object: Contact
    external_id_field: Accolade_Email__c
    id_attribute: salesforce_id
    member_fields:
      tier: Accolade_Tier__c
      lifetime_points: Accolade_Lifetime_Points__c
      badges_count: Accolade_Badges__c
"""
SF_PREFIX = "/services/data/v60.0/composite/sobjects"
SF_UPSERT = f"{SF_PREFIX}/Contact/Accolade_Email__c"


# local CRMs ---------------------------------------------------------------------------------


@dataclass
class Crm:
    """HubSpot's contacts batch upsert (by email) and batch update (by record id), and
    Salesforce's sObject Collections upsert (by external id) and update (by Id), as documented;
    records by id exist only when listed in ``known_ids``."""

    url: str = ""
    known_ids: set[str] = field(default_factory=lambda: {"901", "003000000000001AAA"})
    requests: list[dict[str, Any]] = field(default_factory=list)
    records: dict[str, dict[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, method: str, path: str, auth: str, body: Any) -> tuple[int, Any]:
        with self.lock:
            self.requests.append({"method": method, "path": path, "body": body})
            if auth != f"Bearer {TOKEN}":
                return 401, {"status": "error", "message": "Authentication credentials not found."}
            if method == "POST" and path in (UPSERT_PATH, UPDATE_PATH):
                return self._hubspot(path, body["inputs"])
            if method == "PATCH" and path in (SF_UPSERT, SF_PREFIX):
                return self._salesforce(path, body["records"])
            return 404, {"message": "not found"}

    def _hubspot(self, path: str, inputs: list[dict[str, Any]]) -> tuple[int, Any]:
        for item in inputs:
            assert all(isinstance(v, str) for v in item["properties"].values())
            if path == UPSERT_PATH:
                assert item["idProperty"] == "email"
            elif item["id"] not in self.known_ids:
                return 400, {"status": "error", "message": f"Object {item['id']} not found"}
        for item in inputs:
            self.records.setdefault(item["id"], {}).update(item["properties"])
        return 200, {"status": "COMPLETE", "results": [{"id": i["id"]} for i in inputs]}

    def _salesforce(self, path: str, records: list[dict[str, Any]]) -> tuple[int, Any]:
        results = []
        for record in records:
            fields = {k: str(v) for k, v in record.items() if k != "attributes"}
            key = fields.pop("Id", None) if path == SF_PREFIX else fields["Accolade_Email__c"]
            if key is None or (path == SF_PREFIX and key not in self.known_ids):
                error = {"statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": "invalid id"}
                results.append({"success": False, "errors": [error]})
                continue
            self.records.setdefault(key, {}).update(fields)
            results.append({"id": key, "success": True, "errors": []})
        return 200, results

    def sent(self, path: str) -> list[list[dict[str, Any]]]:
        """What each request to ``path`` carried (its inputs or records)."""
        return [
            r["body"].get("inputs") or r["body"].get("records")
            for r in self.requests
            if r["path"] == path
        ]


@pytest.fixture
def crm() -> Iterator[Crm]:
    state = Crm()

    class Handler(loopback.Handler):
        def _answer(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
            status, answer = state.answer(
                self.command, self.path, self.headers.get("authorization", ""), body
            )
            data = json.dumps(answer).encode()
            self.reply(status, data)

        do_POST = _answer
        do_PATCH = _answer

    with loopback.serving(Handler) as url:
        state.url = url
        yield state


# builders -----------------------------------------------------------------------------------


def clock():
    return NOW


def settings_for(crm: Crm) -> Settings:
    return Settings(
        hubspot_base_url=crm.url,
        hubspot_access_token=SecretStr(TOKEN),
        salesforce_access_token=SecretStr(TOKEN),
        salesforce_instance_url=crm.url,
        webhook_backoff_seconds=30.0,
        webhook_max_attempts=3,
        hubspot_timeout_seconds=5.0,
        salesforce_timeout_seconds=5.0,
    )


def sync_to_hubspot(store, crm: Crm):
    settings = settings_for(crm)
    with client_from(settings) as client:
        return sync_hubspot(store, settings, client, clock=clock)


def sync_to_salesforce(store, crm: Crm):
    settings = settings_for(crm)
    with SalesforceClient(settings) as client:
        return sync_salesforce(store, settings, client, clock=clock)


def ingest(store, *events: dict[str, Any]) -> None:
    ingest_batch(store, "partner", list(enumerate(events, start=1)), clock=clock)


def event(id: str, type: str, member: str, minutes: int = 0, **extra: Any) -> dict[str, Any]:
    at = MONDAY + timedelta(minutes=minutes)
    return {"id": id, "type": type, "member": member, "occurred_at": at.isoformat(), **extra}


def to_silver(member: str, attributes: dict[str, Any]) -> list[dict[str, Any]]:
    """A passed quiz (100 points and the Certified User badge), then a deal worth 5000 points:
    5100 lifetime, Silver."""
    return [
        event(f"{member}-quiz", "quiz.passed", member, attributes=attributes),
        event(f"{member}-deal", "deal.won", member, 5, properties={"amount_usd": 500000}),
    ]


def deliveries(store, kind: str) -> list[Any]:
    with store.engine.connect() as conn:
        return list(
            conn.execute(
                select(webhook_deliveries)
                .join(
                    webhook_subscriptions,
                    webhook_subscriptions.c.id == webhook_deliveries.c.subscription_id,
                )
                .where(webhook_subscriptions.c.kind == kind)
                .order_by(webhook_deliveries.c.id)
            )
        )


@pytest.fixture
def hubspot_program(store):
    publish(store, DEMO_SOURCE + HUBSPOT_MAPPING, clock=clock)
    return store


@pytest.fixture
def salesforce_program(store):
    publish(store, DEMO_SOURCE + SALESFORCE_MAPPING, clock=clock)
    return store


# HubSpot ------------------------------------------------------------------------------------


def test_a_member_reaching_silver_with_a_badge_shows_tier_lifetime_and_badges_in_hubspot(
    hubspot_program, crm
):
    store = hubspot_program
    ingest(store, *to_silver("ana", {"email": "Ana@Example.com", "region": "EMEA"}))
    report = sync_to_hubspot(store, crm)
    # points, badge and tier messages of one member: one contact in one request
    assert report.dead == 0 and report.delivered >= 3
    [inputs] = crm.sent(UPSERT_PATH)
    assert [i["id"] for i in inputs] == ["ana@example.com"]
    assert crm.records["ana@example.com"] == {
        "accolade_tier": "silver",
        "accolade_lifetime_points": "5100",
        "accolade_balance": "5100",
        "accolade_badges": "1",
        "accolade_last_activity": (MONDAY + timedelta(minutes=5))
        .isoformat()
        .replace("+00:00", "Z"),
        "accolade_pipeline": "0",
        "accolade_region": "EMEA",
    }
    assert {d.status for d in deliveries(store, "hubspot")} == {"delivered"}


def test_only_changed_member_properties_are_sent_on_the_next_sync(hubspot_program, crm):
    store = hubspot_program
    ingest(store, *to_silver("ana", {"email": "ana@example.com", "region": "EMEA"}))
    sync_to_hubspot(store, crm)
    ingest(store, event("ana-profile", "profile.completed", "ana", 10))
    report = sync_to_hubspot(store, crm)
    assert (report.delivered, report.dead) == (1, 0)
    last = crm.sent(UPSERT_PATH)[-1]
    assert last == [
        {
            "idProperty": "email",
            "id": "ana@example.com",
            "properties": {
                "accolade_lifetime_points": "5130",
                "accolade_balance": "5130",
                "accolade_last_activity": (MONDAY + timedelta(minutes=10))
                .isoformat()
                .replace("+00:00", "Z"),
            },
        }
    ]


def test_several_members_go_in_one_batch_and_a_burst_of_one_member_in_one_upsert(
    hubspot_program, crm
):
    store = hubspot_program
    burst = [
        event(f"bo-video-{i}", "video.watched", "bo", i, properties={"duration_seconds": 320})
        for i in range(4)
    ]
    ingest(
        store,
        event("ana-profile", "profile.completed", "ana", attributes={"email": "ana@example.com"}),
        *[{**e, "attributes": {"email": "bo@example.com"}} for e in burst],
    )
    report = sync_to_hubspot(store, crm)
    # 5 points messages, and each member's first tier (bronze)
    assert (report.delivered, report.dead) == (7, 0)
    [inputs] = crm.sent(UPSERT_PATH)
    assert sorted(i["id"] for i in inputs) == ["ana@example.com", "bo@example.com"]
    assert crm.records["bo@example.com"]["accolade_lifetime_points"] == "40"


def test_the_referral_pipeline_sums_live_deals_and_leaves_out_won_ones(hubspot_program, crm):
    store = hubspot_program
    ingest(store, event("ana-profile", "profile.completed", "ana", attributes={"email": "a@x.io"}))
    for rid, domain, amount in (("d1", "acme.com", "12500.50"), ("d2", "beta.com", "300")):
        referrals.submit(
            store, "partner", "ana", domain, domain=domain, referral_id=rid, clock=clock
        )
        referrals.move(
            store, "partner", rid, "opportunity", amount=amount, currency="USD", clock=clock
        )
    referrals.move(store, "partner", "d2", "win", amount="300", currency="USD", clock=clock)
    # the member's next message brings the pipeline along
    ingest(store, event("ana-quiz", "quiz.passed", "ana", 30))
    sync_to_hubspot(store, crm)
    assert crm.records["a@x.io"]["accolade_pipeline"] == "12500.50"


def test_a_member_keyed_by_hubspot_id_is_updated_by_that_record_id(hubspot_program, crm):
    store = hubspot_program
    ingest(store, *to_silver("cy", {"hubspot_id": "901", "email": "cy@example.com"}))
    report = sync_to_hubspot(store, crm)
    assert report.dead == 0
    assert crm.sent(UPSERT_PATH) == []
    [inputs] = crm.sent(UPDATE_PATH)
    assert [(i["id"], "idProperty" in i) for i in inputs] == [("901", False)]
    assert crm.records["901"]["accolade_tier"] == "silver"
    assert "cy@example.com" not in crm.records


def test_a_member_without_email_or_id_goes_dead_with_the_reason(hubspot_program, crm):
    store = hubspot_program
    ingest(store, event("dee-profile", "profile.completed", "dee"))
    report = sync_to_hubspot(store, crm)
    assert (report.delivered, report.dead) == (0, 2)
    for dead in deliveries(store, "hubspot"):
        assert dead.status == "dead"
        assert dead.last_error == (
            "member 'dee' has no email (its id is none, nor is its 'email' attribute, "
            "nor its 'hubspot_id' attribute)"
        )
    assert crm.requests == []


def test_a_record_id_hubspot_does_not_know_goes_dead_with_hubspots_message(hubspot_program, crm):
    store = hubspot_program
    ingest(store, event("eve-profile", "profile.completed", "eve", attributes={"hubspot_id": "7"}))
    report = sync_to_hubspot(store, crm)
    assert (report.delivered, report.dead) == (0, 2)  # points, and the first tier
    assert {(d.status, d.last_error) for d in deliveries(store, "hubspot")} == {
        ("dead", "HTTP 400: Object 7 not found")
    }


# Salesforce ---------------------------------------------------------------------------------


def test_members_reach_salesforce_by_external_id_and_by_record_id(salesforce_program, crm):
    store = salesforce_program
    ingest(
        store,
        *to_silver("ana", {"email": "ana@example.com"}),
        *to_silver("cy", {"salesforce_id": "003000000000001AAA"}),
    )
    report = sync_to_salesforce(store, crm)
    assert report.dead == 0
    [upserted] = crm.sent(SF_UPSERT)
    assert upserted == [
        {
            "attributes": {"type": "Contact"},
            "Accolade_Tier__c": "silver",
            "Accolade_Lifetime_Points__c": "5100",
            "Accolade_Badges__c": "1",
            "Accolade_Email__c": "ana@example.com",
        }
    ]
    [updated] = crm.sent(SF_PREFIX)
    assert [r["Id"] for r in updated] == ["003000000000001AAA"]
    assert crm.records["003000000000001AAA"]["Accolade_Tier__c"] == "silver"


def test_only_changed_salesforce_fields_are_sent_and_an_unknown_id_goes_dead(
    salesforce_program, crm
):
    store = salesforce_program
    ingest(store, *to_silver("ana", {"email": "ana@example.com"}))
    sync_to_salesforce(store, crm)
    ingest(
        store,
        event("ana-profile", "profile.completed", "ana", 10),
        event("fay-profile", "profile.completed", "fay", attributes={"salesforce_id": "003x"}),
    )
    report = sync_to_salesforce(store, crm)
    assert (report.delivered, report.dead) == (1, 2)  # fay's points and first tier
    assert crm.sent(SF_UPSERT)[-1] == [
        {
            "attributes": {"type": "Contact"},
            "Accolade_Lifetime_Points__c": "5130",
            "Accolade_Email__c": "ana@example.com",
        }
    ]
    assert {d.last_error for d in deliveries(store, "salesforce") if d.status == "dead"} == {
        "INVALID_CROSS_REFERENCE_KEY: invalid id"
    }


# validate -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mapping", "path", "words"),
    [
        (
            "  hubspot:\n    member_properties:\n      tiers: accolade_tier\n",
            "integrations.hubspot.member_properties.tiers",
            "unknown member value 'tiers'",
        ),
        (
            "  hubspot:\n    member_properties:\n      tier: a_tier\n      stage: a_tier\n",
            "integrations.hubspot.member_properties.stage",
            "'a_tier' is written by member_properties.tier already",
        ),
        (
            "  salesforce:\n    external_id_field: Key__c\n    member_fields:\n"
            "      attributes.crm_key: Key__c\n",
            "integrations.salesforce.member_fields.attributes.crm_key",
            "'Key__c' is the external id field",
        ),
        (
            "  salesforce:\n    external_id_field: Key__c\n    attribute_fields:\n"
            "      last_name: LastName\n    member_fields:\n      attributes.surname: LastName\n",
            "integrations.salesforce.member_fields.attributes.surname",
            "'LastName' is written by attribute_fields.last_name already",
        ),
    ],
)
def test_a_bad_member_mapping_is_refused_at_validate_with_its_path(mapping, path, words):
    with pytest.raises(InvalidProgram) as caught:
        load_program(DEMO_SOURCE + "integrations:\n" + mapping)
    found = [str(e) for e in caught.value.errors]
    assert any(e.startswith(path) and words in e for e in found), found
