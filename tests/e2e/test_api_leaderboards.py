"""Leaderboards over HTTP: a page, a member's standing (their own, with a member token), closing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.builders import api_on
from tests.integration.builders import publish_demo, row_counts
from tests.integration.test_leaderboards import DAY, NOW, PROGRAM, story


@pytest.fixture
def api(store):
    with api_on(store) as api:
        publish_demo(store, PROGRAM)
        api.clock.now = NOW
        yield api


def send(api, *events):
    writer = api.key("events:write", program="advocates")
    response = api.client.post("/v1/events", json=list(events), headers=writer)
    assert response.status_code == 200, response.text


def test_a_page_of_a_partitioned_board_with_ranks_names_and_scores(api):
    send(
        api,
        story("a1", "a", attributes={"region": "EMEA", "name": "Ana"}),
        story("a2", "a"),
        story("b1", "b", attributes={"region": "EMEA"}),
        story("c1", "c", attributes={"region": "NA"}),
    )
    reader = api.key("members:read", program="advocates")
    page = api.client.get(
        "/v1/leaderboards/regional", params={"partition": "region:EMEA"}, headers=reader
    ).json()
    assert page["partition"] == {"region": "EMEA"} and page["total"] == 2
    assert page["rows"] == [
        {"rank": 1, "subject": "a", "name": "Ana", "score": 200},
        {"rank": 2, "subject": "b", "name": "b", "score": 100},
    ]
    missing = api.client.get("/v1/leaderboards/regional", headers=reader)
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "partition.region"
    bad = api.client.get("/v1/leaderboards/regional", params={"partition": "EMEA"}, headers=reader)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "partition"
    unknown = api.client.get("/v1/leaderboards/nope", headers=reader)
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "leaderboard"
    boards = api.client.get("/v1/leaderboards", headers=reader).json()
    assert [b["key"] for b in boards][:3] == ["all_time", "weekly", "last_30_days"]


def test_a_member_token_reads_its_own_standing_only(api):
    send(api, *(story(f"s{i}-{n}", f"m{i}") for i in range(1, 5) for n in range(i)))
    token = api.client.post(
        "/v1/members/m2/token",
        json={"ttl_seconds": 60},
        headers=api.key("members:read", program="advocates"),
    ).json()["token"]
    mine = {"Authorization": f"Bearer {token}"}
    me = api.client.get("/v1/leaderboards/all_time/standings/m2?around=1", headers=mine).json()
    assert (me["rank"], me["score"], me["total"], me["gap"], me["percentile"]) == (
        3,
        200,
        4,
        100,
        50.0,
    )
    assert [r["subject"] for r in me["above"]] == ["m3"]
    assert [r["subject"] for r in me["below"]] == ["m1"]
    other = api.client.get("/v1/leaderboards/all_time/standings/m3", headers=mine)
    assert other.status_code == 403
    # the page itself is public to the member: the rows are who is on the board
    assert api.client.get("/v1/leaderboards/all_time", headers=mine).status_code == 200


def test_closing_over_http_keeps_the_standings_and_pays_once(api):
    week = NOW - 7 * DAY
    send(api, story("a1", "a", week), story("b1", "b", week - timedelta(hours=1)))
    writer = api.key("events:write", program="advocates")
    assert api.client.post("/v1/leaderboards/close", headers=writer).status_code == 403
    admin = api.key("program:admin", program="advocates")
    report = api.client.post("/v1/leaderboards/close", headers=admin).json()
    assert [(c["board"], c["window"]["label"], c["paid"]) for c in report["closed"]] == [
        ("weekly", "2026-W32", 2)
    ]
    before = row_counts(api.store)
    again = api.client.post("/v1/leaderboards/close", headers=admin).json()
    assert again == {"rolled": [], "closed": []}
    assert row_counts(api.store) == before
    page = api.client.get(
        "/v1/leaderboards/weekly", params={"window": "previous"}, headers=admin
    ).json()
    assert [r["subject"] for r in page["final"]] == ["b", "a"]
    assert page["window"]["closed_at"] is not None


def test_the_host_cannot_send_leaderboard_won(api):
    writer = api.key("events:write", program="advocates")
    forged = story("w1", "a") | {"type": "leaderboard.won", "properties": {"leaderboard": "weekly"}}
    response = api.client.post("/v1/events", json=forged, headers=writer)
    assert response.status_code == 422 and response.json()["error"]["field"] == "type"
