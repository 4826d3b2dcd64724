"""Rewards over HTTP: the catalogue for a member, redeeming (idempotent by redemption id), the
approval queue and decisions under their scopes, code pools, and the errors on the way."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accolade.service.programs import publish
from tests.e2e.builders import api_on
from tests.integration.builders import clock_at, row_counts
from tests.integration.test_rewards import NOW, PROGRAM, earn


@pytest.fixture
def api(store):
    with api_on(store) as api:
        publish(store, PROGRAM, clock=clock_at(NOW - timedelta(days=30)))
        api.clock.now = NOW
        earn(store, "alice", 2)  # 1,000 points: gold
        earn(store, "bob", 1, region="amer")
        yield api


def test_a_member_sees_what_they_may_redeem_and_redeems_it(api):
    token = api.client.post(
        "/v1/members/bob/token",
        json={"ttl_seconds": 60},
        headers=api.key("members:read", program="shop"),
    ).json()["token"]
    mine = api.client.get("/v1/rewards", headers={"Authorization": f"Bearer {token}"}).json()
    by_key = {i["key"]: i for i in mine}
    assert "advisory" not in by_key and "emea_swag" not in by_key
    assert by_key["tshirt"] == {
        "key": "tshirt",
        "name": "T-shirt",
        "description": None,
        "price": 300,
        "value": None,
        "fulfilment": "manual",
        "approval": False,
        "left": 2,
        "redeemable": True,
        "reason": None,
    }
    assert by_key["gift_card"]["reason"] == "out of stock"
    other = api.client.get(
        "/v1/rewards", params={"member": "alice"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert other.status_code == 403

    writer = api.key("rewards:write", program="shop")
    done = api.client.post(
        "/v1/rewards/tshirt/redemptions",
        json={"member": "bob", "redemption_id": "order-7"},
        headers=writer,
    )
    assert done.status_code == 201, done.text
    body = done.json()
    assert (body["redemption_id"], body["status"], body["balance"]) == ("order-7", "approved", 200)
    again = api.client.post(
        "/v1/rewards/tshirt/redemptions",
        json={"member": "bob", "redemption_id": "order-7"},
        headers=writer,
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True
    history = api.client.get("/v1/redemptions", headers={"Authorization": f"Bearer {token}"}).json()
    assert [r["redemption_id"] for r in history["items"]] == ["order-7"]


def test_refusals_name_the_field_and_store_nothing(api, store):
    writer = api.key("rewards:write", program="shop")
    reader = api.key("members:read", program="shop")
    before = row_counts(store)
    cases = [
        ("advisory", {"member": "bob"}, 409, "not_redeemable", "reward"),
        ("gift_card", {"member": "bob"}, 409, "not_redeemable", "reward"),
        ("nothing", {"member": "bob"}, 404, "not_found", "reward"),
        ("tshirt", {"member": "nobody"}, 404, "not_found", "member"),
        ("tshirt", {}, 422, None, None),
        ("tshirt", {"member": "bob", "extra": 1}, 422, None, None),
    ]
    for reward, body, status, code, field in cases:
        response = api.client.post(f"/v1/rewards/{reward}/redemptions", json=body, headers=writer)
        assert response.status_code == status, (reward, body, response.text)
        if code is not None:
            error = response.json()["error"]
            assert (error["code"], error["field"]) == (code, field)
    forbidden = api.client.post(
        "/v1/rewards/tshirt/redemptions", json={"member": "bob"}, headers=reader
    )
    assert forbidden.status_code == 403
    assert row_counts(store) == before
    api.client.post("/v1/rewards/trees/redemptions", json={"member": "bob"}, headers=writer)
    api.client.post("/v1/rewards/tshirt/redemptions", json={"member": "bob"}, headers=writer)
    poor = api.client.post("/v1/rewards/tshirt/redemptions", json={"member": "bob"}, headers=writer)
    assert poor.status_code == 409
    assert poor.json()["error"]["code"] in ("insufficient_balance", "not_redeemable")


def test_the_approval_queue_and_decisions_under_their_scopes(api):
    writer = api.key("rewards:write", program="shop")
    admin = api.key("rewards:admin", program="shop")
    asked = api.client.post(
        "/v1/rewards/advisory/redemptions", json={"member": "alice"}, headers=writer
    ).json()
    assert asked["status"] == "requested"
    rid = asked["redemption_id"]
    assert api.client.get("/v1/redemptions", headers=writer).status_code == 403
    queue = api.client.get("/v1/redemptions", params={"status": "requested"}, headers=admin).json()
    assert [r["redemption_id"] for r in queue["items"]] == [rid]
    assert api.client.post(f"/v1/redemptions/{rid}/approve", headers=writer).status_code == 403
    approved = api.client.post(f"/v1/redemptions/{rid}/approve", headers=admin).json()
    assert approved["status"] == "approved"
    shipped = api.client.post(
        f"/v1/redemptions/{rid}/fulfil", json={"note": "invitation sent"}, headers=admin
    ).json()
    assert (shipped["status"], shipped["note"]) == ("fulfilled", "invitation sent")
    late = api.client.post(f"/v1/redemptions/{rid}/cancel", headers=writer)
    assert late.status_code == 409 and late.json()["error"]["field"] == "status"
    unknown = api.client.post(f"/v1/redemptions/{rid}/ship", headers=admin)
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "decision"
    missing = api.client.get("/v1/redemptions/nope", headers=admin)
    assert missing.status_code == 404


def test_codes_are_added_by_an_admin_and_handed_out_once(api):
    admin = api.key("rewards:admin", program="shop")
    added = api.client.post(
        "/v1/rewards/gift_card/codes", json={"codes": ["A", "B", "A"]}, headers=admin
    )
    assert added.json() == {"added": 2, "free": 2}
    writer = api.key("rewards:write", program="shop")
    got = api.client.post(
        "/v1/rewards/gift_card/redemptions", json={"member": "alice"}, headers=writer
    ).json()
    assert (got["status"], got["code"]) == ("fulfilled", "A")
    reader = api.key("members:read", program="shop")
    seen = api.client.get(f"/v1/redemptions/{got['redemption_id']}", headers=reader).json()
    assert seen["code"] == "A"
    wrong = api.client.post("/v1/rewards/tshirt/codes", json={"codes": ["X"]}, headers=admin)
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "reward"


def test_expiring_points_needs_a_program_admin(api):
    rewards_admin = api.key("rewards:admin", program="shop")
    assert api.client.post("/v1/points/expire", headers=rewards_admin).status_code == 403
    admin = api.key("program:admin", program="shop")
    done = api.client.post("/v1/points/expire", headers=admin)
    assert done.status_code == 200
    assert done.json() == {"members": 0, "points": 0, "warned": 0}  # no expiry in this program
