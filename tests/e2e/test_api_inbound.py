"""Inbound CRM webhooks over HTTP: HubSpot's v3-signed events and Salesforce's notices signed
the documented way move referrals as the program's `integrations.inbound` rules say; a bad or
stale signature is refused and nothing moves; the same event again changes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest

from accolade.service.programs import publish
from tests.e2e.builders import api_on
from tests.integration.builders import clock_at
from tests.integration.test_referrals import KEY, NOW, PROGRAM

APP_SECRET = "hubspot-app-secret-0123456789"
SF_SECRET = "salesforce-inbound-secret-0123456789"
RULES = """
integrations:
  inbound:
    - {source: hubspot, object: deal, property: dealstage, value: qualifiedtobuy, move: qualify}
    - source: hubspot
      object: deal
      property: dealstage
      value: closedlost
      move: lose
      reason: lost in HubSpot
    - source: salesforce
      object: Opportunity
      property: StageName
      value: Closed Won
      move: win
      amount_field: Amount
      currency_field: CurrencyIsoCode
    - {source: salesforce, object: Lead, property: Status, value: [Qualified, Working], move: qualify}
"""


@pytest.fixture
def api(store):
    with api_on(store, hubspot_app_secret=APP_SECRET, salesforce_inbound_secret=SF_SECRET) as api:
        publish(store, PROGRAM + RULES, clock=clock_at(NOW - timedelta(days=10)))
        api.clock.now = NOW
        writer = api.key("events:write", program=KEY)
        login = {"id": "login-alice", "type": "login", "member": "alice"}
        login["occurred_at"] = NOW.isoformat()
        assert api.client.post("/v1/events", json=[login], headers=writer).status_code == 200
        crm = api.key("referrals:write", program=KEY)
        for referral_id in ("9001", "006A", "00QB"):
            done = api.client.post(
                "/v1/referrals",
                json={"member": "alice", "prospect": f"P{referral_id}", "referral_id": referral_id},
                headers=crm,
            )
            assert done.status_code == 201, done.text
        yield api


def hubspot_post(api, events, *, secret: str = APP_SECRET, age_ms: int = 0):
    body = json.dumps(events).encode()
    url = f"http://testserver/v1/inbound/hubspot/{KEY}"
    timestamp = str(int(api.clock.now.timestamp() * 1000) - age_ms)
    text = b"POST" + url.encode() + body + timestamp.encode()
    signature = base64.b64encode(hmac.new(secret.encode(), text, hashlib.sha256).digest())
    return api.client.post(
        url,
        content=body,
        headers={
            "content-type": "application/json",
            "X-HubSpot-Signature-v3": signature.decode(),
            "X-HubSpot-Request-Timestamp": timestamp,
        },
    )


def salesforce_post(api, events, *, secret: str = SF_SECRET, age_s: int = 0):
    body = json.dumps({"events": events}).encode()
    timestamp = str(int(api.clock.now.timestamp()) - age_s)
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return api.client.post(
        f"/v1/inbound/salesforce/{KEY}",
        content=body,
        headers={
            "content-type": "application/json",
            "X-Accolade-Signature": "sha256=" + digest.hexdigest(),
            "X-Accolade-Timestamp": timestamp,
        },
    )


def deal_stage(event_id: int, deal: str, stage: str) -> dict[str, object]:
    return {
        "eventId": event_id,
        "subscriptionId": 12,
        "portalId": 62515,
        "appId": 1160452,
        "occurredAt": int(NOW.timestamp() * 1000),
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": int(deal),
        "changeSource": "CRM",
        "propertyName": "dealstage",
        "propertyValue": stage,
    }


def status_of(api, referral_id: str) -> str:
    reader = api.key("members:read", program=KEY)
    return str(api.client.get(f"/v1/referrals/{referral_id}", headers=reader).json()["status"])


def test_a_hubspot_deal_stage_moves_its_referral_and_the_same_event_again_changes_nothing(api):
    answer = hubspot_post(api, [deal_stage(1, "9001", "qualifiedtobuy")])
    assert answer.status_code == 200, answer.text
    assert answer.json()["received"] == [
        {
            "event_id": "1",
            "status": "moved",
            "referral_id": "9001",
            "move": "qualify",
            "error": None,
        }
    ]
    assert status_of(api, "9001") == "qualified"
    again = hubspot_post(api, [deal_stage(1, "9001", "qualifiedtobuy")])
    assert again.json()["received"][0]["status"] == "duplicate"
    lost = hubspot_post(api, [deal_stage(2, "9001", "closedlost"), deal_stage(3, "1", "x")])
    assert [r["status"] for r in lost.json()["received"]] == ["moved", "ignored"]
    assert status_of(api, "9001") == "lost"


def test_a_bad_or_stale_hubspot_signature_is_refused_and_nothing_moves(api):
    wrong = hubspot_post(api, [deal_stage(1, "9001", "qualifiedtobuy")], secret="not-it")
    assert wrong.status_code == 403
    assert wrong.json()["error"]["field"] == "signature"
    stale = hubspot_post(api, [deal_stage(1, "9001", "qualifiedtobuy")], age_ms=301_000)
    assert stale.status_code == 403
    assert stale.json()["error"]["field"] == "timestamp"
    assert status_of(api, "9001") == "submitted"


def test_a_salesforce_opportunity_won_moves_its_referral_with_the_amount(api):
    answer = salesforce_post(
        api,
        [
            {
                "id": "evt-1",
                "object": "Opportunity",
                "record_id": "006A",
                "occurred_at": NOW.isoformat(),
                "fields": {"StageName": "Closed Won", "Amount": 12500, "CurrencyIsoCode": "USD"},
            },
            {"id": "evt-2", "object": "Lead", "record_id": "00QB", "fields": {"Status": "Working"}},
            {"id": "evt-3", "object": "Lead", "record_id": "00QX", "fields": {"Status": "Working"}},
        ],
    )
    assert answer.status_code == 200, answer.text
    received = answer.json()["received"]
    assert [r["status"] for r in received] == ["moved", "moved", "rejected"]
    assert "no referral '00QX'" in received[2]["error"]
    reader = api.key("members:read", program=KEY)
    won = api.client.get("/v1/referrals/006A", headers=reader).json()
    assert (won["status"], won["amount"], won["currency"]) == ("won", "12500.00", "USD")
    assert status_of(api, "00QB") == "qualified"


def test_a_bad_salesforce_signature_is_refused(api):
    event = {"id": "e", "object": "Lead", "record_id": "00QB", "fields": {"Status": "Working"}}
    assert salesforce_post(api, [event], secret="x" * 20).status_code == 403
    assert salesforce_post(api, [event], age_s=400).status_code == 403
    assert status_of(api, "00QB") == "submitted"


def test_inbound_webhooks_are_off_without_their_secret(store):
    with api_on(store) as api:
        assert hubspot_post(api, []).status_code == 404
        assert salesforce_post(api, []).status_code == 404


def test_bad_signatures_from_one_address_are_limited(store):
    with api_on(store, hubspot_app_secret=APP_SECRET, failed_auth_per_minute=2) as api:
        codes = [hubspot_post(api, [], secret="guess").status_code for _ in range(3)]
        assert codes == [403, 403, 429]
