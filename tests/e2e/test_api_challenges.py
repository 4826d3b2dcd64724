"""Challenges over HTTP: a member's progress, the owner's figures, closing a window."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.e2e.builders import api_on
from tests.integration.builders import publish_demo, row_counts
from tests.integration.test_challenges import AFTER_AUGUST, AUG, PROGRAM, ev


@pytest.fixture
def api(store):
    with api_on(store) as api:
        publish_demo(store, PROGRAM)
        api.clock.now = AUG
        yield api


def test_a_member_sees_the_challenges_of_their_segment(api):
    headers = api.key("events:write", "members:read", program="advocates")
    q3 = datetime(2026, 7, 10, 15, tzinfo=UTC)
    story = ev("s1", "story.submitted", "alice", q3, attributes={"role": "advocate"})
    assert api.client.post("/v1/events", json=story, headers=headers).json()["points"] == 600
    member = api.client.get("/v1/members/alice", headers=headers).json()
    story_q3 = next(c for c in member["challenges"] if c["key"] == "story_q3")
    assert (story_q3["status"], story_q3["percent"], story_q3["won"]) == ("open", 100, True)
    assert story_q3["reward"]["points"] == 500


def test_closing_over_http_pays_once_and_needs_program_admin(api):
    writer = api.key("events:write", program="advocates")
    api.client.post(
        "/v1/events", json=[ev("a1", "deal.won", "a", AUG, amount=30_000)], headers=writer
    )
    assert api.client.post("/v1/challenges/close", headers=writer).status_code == 403
    admin = api.key("program:admin", program="advocates")
    api.clock.now = AFTER_AUGUST
    [closed] = api.client.post("/v1/challenges/close", headers=admin).json()
    assert (closed["key"], closed["paid"], closed["winners"][0]["member"]) == ("pipeline", 1, "a")
    before = row_counts(api.store)
    assert api.client.post("/v1/challenges/close", headers=admin).json() == []
    assert row_counts(api.store) == before
    pipeline = api.client.get("/v1/challenges/pipeline", headers=admin).json()
    assert (pipeline["status"], pipeline["winners"]) == ("closed", ["a"])
    unknown = api.client.get("/v1/challenges/pipelin", headers=admin)
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "challenge"


def test_the_host_cannot_send_challenge_won(api):
    writer = api.key("events:write", program="advocates")
    forged = ev("w1", "challenge.won", "a", AUG, challenge="pipeline", rank=1)
    response = api.client.post("/v1/events", json=forged, headers=writer)
    assert response.status_code == 422 and response.json()["error"]["field"] == "type"
