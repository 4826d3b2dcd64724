"""A member's streaks over HTTP, as of the server's clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.builders import api_on
from tests.integration.builders import MONDAY, publish_demo
from tests.integration.test_streaks import STREAKY_SOURCE, quizzes_on


@pytest.fixture
def api(store):
    with api_on(store) as api:
        publish_demo(store, STREAKY_SOURCE)
        yield api


def test_get_member_shows_the_streak_as_of_the_servers_clock(api):
    headers = api.key("events:write", "members:read")
    posted = api.client.post("/v1/events", json=quizzes_on(0, 1, 2), headers=headers)
    assert posted.status_code == 200, posted.text
    api.clock.now = MONDAY + timedelta(days=2, hours=6)

    daily, weekly = api.client.get("/v1/members/alice", headers=headers).json()["streaks"]

    assert daily == {
        "key": "daily_quiz",
        "name": "Daily quiz",
        "period": "day",
        "current": 3,
        "longest": 3,
        "done": True,
        "freezes": 1,
        "grace_left": 1,
        "next_milestone": 7,
        "periods_to_next_milestone": 4,
    }
    assert (weekly["key"], weekly["current"], weekly["next_milestone"]) == ("weekly_quiz", 1, 2)


def test_a_week_later_the_streak_shows_broken_but_keeps_the_longest_run(api):
    headers = api.key("events:write", "members:read")
    api.client.post("/v1/events", json=quizzes_on(0, 1, 2), headers=headers)
    api.clock.now = MONDAY + timedelta(days=9)

    daily = api.client.get("/v1/members/alice", headers=headers).json()["streaks"][0]

    assert (daily["current"], daily["longest"], daily["done"]) == (0, 3, False)


def test_a_program_without_streaks_shows_none(api):
    headers = api.key("events:write", "members:read", program="community")
    api.client.post("/v1/events", json=quizzes_on(0), headers=headers)

    assert api.client.get("/v1/members/alice", headers=headers).json()["streaks"] == []
