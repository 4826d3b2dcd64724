"""Webhooks end to end: subscribe over HTTP, send events, a real receiver gets them signed,
fails on purpose, recovers; redeliver over HTTP; another program sees none of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from accolade.integrations.webhooks import HttpSender
from accolade.service.webhooks import deliver_due
from tests.e2e.builders import api_on
from tests.integration.builders import quiz, row_counts
from tests.integration.test_webhooks import receiver  # noqa: F401  (a real HTTP receiver)


@pytest.fixture
def api(store):
    with api_on(store) as api:
        api.clock.now = datetime.now(UTC)  # signatures must be fresh for the receiver
        yield api


def deliver(api, max_attempts=2):
    with HttpSender(timeout=5.0) as send:
        return deliver_due(
            api.store, send, clock=api.clock, max_attempts=max_attempts, backoff_seconds=30
        )


def test_an_event_reaches_a_subscriber_signed_and_retried_until_it_recovers(api, receiver):  # noqa: F811
    admin = api.key("webhooks:admin", "events:write")
    made = api.client.post(
        "/v1/webhooks",
        json={"url": f"{receiver.url}/hook", "types": ["badge.earned"]},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    subscription = made.json()
    receiver.failing = True
    api.client.post("/v1/events", json=quiz("q1"), headers=admin)

    assert deliver(api).failed == 1
    api.clock.now += timedelta(seconds=31)
    assert deliver(api).dead == 1  # two attempts, both failed
    [dead] = api.client.get(
        f"/v1/webhooks/{subscription['id']}/deliveries", params={"status": "dead"}, headers=admin
    ).json()
    assert dead["type"] == "badge.earned" and dead["attempts"] == 2 and dead["last_status"] == 500

    receiver.failing = False
    again = api.client.post(f"/v1/webhooks/deliveries/{dead['id']}/redeliver", headers=admin)
    assert again.status_code == 200 and again.json()["status"] == "pending"
    assert deliver(api).delivered == 1
    last = receiver.requests[-1]
    payload = Webhook(subscription["secret"]).verify(last.body, last.headers)
    assert payload["type"] == "badge.earned" and payload["data"]["member"] == "alice"
    assert last.headers["webhook-id"] == dead["message_id"]


def test_a_bad_subscription_names_the_field_and_stores_nothing(api):
    admin = api.key("webhooks:admin")
    before = row_counts(api.store)
    bad_url = api.client.post("/v1/webhooks", json={"url": "ftp://x"}, headers=admin)
    bad_type = api.client.post(
        "/v1/webhooks",
        json={"url": "https://example.com/h", "types": ["points.gained"]},
        headers=admin,
    )
    assert (bad_url.status_code, bad_url.json()["error"]["field"]) == (422, "url")
    assert (bad_type.status_code, bad_type.json()["error"]["field"]) == (422, "types")
    assert row_counts(api.store) == before


def test_another_programs_key_sees_no_subscription_or_delivery(api):
    mine = api.key("webhooks:admin")
    theirs = api.key("webhooks:admin", program="community")
    made = api.client.post("/v1/webhooks", json={"url": "https://example.com/h"}, headers=mine)
    sub = made.json()["id"]
    assert api.client.get(f"/v1/webhooks/{sub}", headers=theirs).status_code == 404
    assert api.client.delete(f"/v1/webhooks/{sub}", headers=theirs).status_code == 404
    assert api.client.get(f"/v1/webhooks/{sub}/deliveries", headers=theirs).status_code == 404
    assert api.client.get("/v1/webhooks", headers=theirs).json() == []
    assert api.client.get("/v1/webhooks", headers=api.key("members:read")).status_code == 403
    disabled = api.client.delete(f"/v1/webhooks/{sub}", headers=mine).json()
    assert disabled["disabled_at"] is not None
