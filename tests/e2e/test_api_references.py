"""Reference requests over HTTP: matching, a recorded request, asks under the limits, answers
that pay, and errors naming their field."""

from __future__ import annotations

import pytest

from accolade.service.programs import publish
from tests.e2e.builders import api_on
from tests.integration.builders import clock_at
from tests.integration.test_references import DAY, KEY, NOW, PROGRAM, login


@pytest.fixture
def api(store):
    with api_on(store) as api:
        publish(store, PROGRAM, clock=clock_at(NOW - 400 * DAY))
        api.clock.now = NOW
        writer = api.key("events:write", program=KEY)
        sent = [login(f"a{i}", industry="fintech", region="EMEA") for i in range(4)]
        assert api.client.post("/v1/events", json=sent, headers=writer).status_code == 200
        yield api


def test_request_ask_and_complete_a_reference(api):
    rep = api.key("references:write", program=KEY)
    made = api.client.post(
        "/v1/references/requests",
        json={
            "criteria": {"industry": "fintech", "region": ["EMEA", "NA"]},
            "count": 2,
            "requested_by": "sam@vendor.example",
            "request_id": "opp-77",
        },
        headers=rep,
    )
    assert made.status_code == 201, made.text
    candidates = made.json()["candidates"]
    assert [c["rank"] for c in candidates] == [1, 2]
    first = candidates[0]["member"]
    asked = api.client.post(
        "/v1/references/requests/opp-77/asks", json={"members": [first]}, headers=rep
    ).json()
    assert asked["asks"][0]["status"] == "asked"
    done = api.client.post(
        f"/v1/references/requests/opp-77/asks/{first}/complete", headers=rep
    ).json()
    assert done["status"] == "completed" and len(done["sent"]) == 2
    reader = api.key("members:read", program=KEY)
    assert api.client.get(f"/v1/members/{first}", headers=reader).json()["balance"] == 351
    preview = api.client.post(
        "/v1/references/match", json={"criteria": {"industry": "fintech"}, "count": 10}, headers=rep
    ).json()
    assert first not in [c["member"] for c in preview]  # asked this month: at its limit
    again = api.client.post(
        "/v1/references/requests/opp-77/asks", json={"members": [first]}, headers=rep
    )
    assert again.status_code == 200  # the same ask again changes nothing


def test_refusals_name_their_field(api):
    rep = api.key("references:write", program=KEY)
    bad = api.client.post("/v1/references/match", json={"criteria": {"colour": "red"}}, headers=rep)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "criteria.colour"
    missing = api.client.post(
        "/v1/references/requests/nope/asks", json={"members": ["a1"]}, headers=rep
    )
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "request_id"
    reader = api.key("members:read", program=KEY)
    assert api.client.post("/v1/references/match", json={}, headers=reader).status_code == 403
