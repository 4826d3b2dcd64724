"""Referrals over HTTP: a member's submission, the CRM's moves under referrals:write, clawback,
duplicates, the pipeline, and errors that name their field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accolade.service.programs import publish
from tests.e2e.builders import api_on
from tests.integration.builders import clock_at, row_counts
from tests.integration.test_referrals import KEY, NOW, PROGRAM


@pytest.fixture
def api(store):
    with api_on(store) as api:
        publish(store, PROGRAM, clock=clock_at(NOW - timedelta(days=10)))
        api.clock.now = NOW
        writer = api.key("events:write", program=KEY)
        joined = [
            {"id": f"login-{m}", "type": "login", "member": m, "occurred_at": NOW.isoformat()}
            for m in ("alice", "bob")
        ]
        assert api.client.post("/v1/events", json=joined, headers=writer).status_code == 200
        yield api


def test_a_referral_from_submission_to_a_won_deal_and_its_clawback(api):
    crm = api.key("referrals:write", program=KEY)
    done = api.client.post(
        "/v1/referrals",
        json={"member": "alice", "prospect": "Acme", "domain": "acme.com", "referral_id": "L-1"},
        headers=crm,
    )
    assert done.status_code == 201, done.text
    assert done.json()["sent"] == ["referral:L-1:submitted"]
    again = api.client.post(
        "/v1/referrals",
        json={"member": "alice", "prospect": "Acme", "referral_id": "L-1"},
        headers=crm,
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True
    won = api.client.post(
        "/v1/referrals/L-1/win", json={"amount": "40000", "currency": "USD"}, headers=crm
    ).json()
    assert (won["status"], won["amount"], won["currency"]) == ("won", "40000.00", "USD")
    reader = api.key("members:read", program=KEY)
    alice = api.client.get("/v1/members/alice", headers=reader).json()
    assert alice["balance"] == 1 + 50 + 500 + 400
    pipeline = api.client.get("/v1/referrals/pipeline", headers=reader).json()
    assert pipeline[0]["key"] == "alice" and pipeline[0]["won_amount"] == {"USD": "40000.00"}
    out = api.client.post(
        "/v1/referrals/L-1/disqualify", json={"reason": "already a customer"}, headers=crm
    ).json()
    assert out["status"] == "disqualified" and len(out["reversed"]) == 5
    assert api.client.get("/v1/members/alice", headers=reader).json()["balance"] == 1


def test_duplicates_and_refusals(api, store):
    crm = api.key("referrals:write", program=KEY)
    reader = api.key("members:read", program=KEY)
    api.client.post(
        "/v1/referrals",
        json={"member": "alice", "prospect": "Acme", "domain": "acme.com"},
        headers=crm,
    )
    dup = api.client.post(
        "/v1/referrals",
        json={"member": "bob", "prospect": "ACME Corp", "contact_email": "cfo@acme.com"},
        headers=crm,
    ).json()
    assert dup["status"] == "duplicate"
    on_subdomain = api.client.post(
        "/v1/referrals",
        json={"member": "bob", "prospect": "Acme", "contact_email": "jo@sales.acme.com"},
        headers=crm,
    ).json()
    assert on_subdomain["duplicate_of"] == dup["duplicate_of"]
    moved = api.client.post(f"/v1/referrals/{dup['referral_id']}/qualify", headers=crm)
    assert moved.status_code == 409 and moved.json()["error"]["field"] == "status"
    before = row_counts(store)
    cases = [
        ("/v1/referrals", {"member": "nobody", "prospect": "X"}, 404, "member"),
        ("/v1/referrals", {"member": "bob", "prospect": "X", "domain": "x"}, 422, "domain"),
        # GET /v1/referrals/pipeline is the pipeline: a referral with that id could not be read
        (
            "/v1/referrals",
            {"member": "bob", "prospect": "X", "referral_id": "pipeline"},
            422,
            "referral_id",
        ),
        ("/v1/referrals/pipeline/qualify", {}, 422, "referral_id"),
        ("/v1/referrals/nope/qualify", {}, 404, "referral_id"),
        (f"/v1/referrals/{dup['duplicate_of']}/win", {}, 422, "amount"),
        (f"/v1/referrals/{dup['duplicate_of']}/fly", {}, 422, "move"),
        (
            f"/v1/referrals/{dup['duplicate_of']}/win",
            {"amount": "12500.5", "currency": "JPY"},
            422,
            "amount",
        ),
        (
            f"/v1/referrals/{dup['duplicate_of']}/win",
            {"amount": "10", "currency": "ABC"},
            422,
            "currency",
        ),
    ]
    for path, body, status, field in cases:
        response = api.client.post(path, json=body, headers=crm)
        assert response.status_code == status, (path, response.text)
        assert response.json()["error"]["field"] == field
    assert (
        api.client.post(
            "/v1/referrals", json={"member": "bob", "prospect": "Y"}, headers=reader
        ).status_code
        == 403
    )
    assert row_counts(store) == before
    mine = api.client.get("/v1/referrals", params={"member": "bob"}, headers=reader).json()
    assert [r["status"] for r in mine["items"]] == ["duplicate", "duplicate"]
