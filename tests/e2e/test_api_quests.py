"""Quests over HTTP: a member's progress bar and entitlements; funnels for the program owner."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.builders import api_on
from tests.integration.builders import MONDAY, publish_demo, row_counts
from tests.integration.builders import event as ev

ONBOARDING = (Path(__file__).parents[2] / "examples" / "onboarding-quest.yaml").read_text()
HOUR = timedelta(hours=1)


@pytest.fixture
def api(store):
    with api_on(store) as api:
        publish_demo(store, ONBOARDING)
        api.clock.now = MONDAY + 6 * HOUR
        yield api


SMART_TOOLS = [
    ev("v1", "video.watched", video="smart_drill"),
    ev("v2", "video.watched", at=MONDAY + HOUR, video="smart_saw"),
    ev("v3", "video.watched", at=MONDAY + 2 * HOUR, video="smart_level"),
    ev("q1", "quiz.passed", at=MONDAY + 3 * HOUR, quiz="smart_tools", score=85),
    ev("p1", "project.logged", at=MONDAY + 4 * HOUR),
]


def test_a_member_sees_the_progress_bar_next_step_and_entitlements(api):
    headers = api.key("events:write", "members:read", program="onboarding")
    api.client.post("/v1/events", json=SMART_TOOLS[:3], headers=headers)
    member = api.client.get("/v1/members/alice", headers=headers).json()
    tools = next(q for q in member["quests"] if q["key"] == "smart_tool_master")
    assert (tools["status"], tools["done"], tools["total"], tools["percent"]) == (
        "in_progress",
        3,
        5,
        60,
    )
    assert tools["next_step"]["key"] == "quiz"
    assert tools["unlocks"]["entitlements"] == {
        "commission_bonus_pct": 2,
        "commission_bonus_sales": 5,
    }
    assert member["entitlements"] == {}

    api.client.post("/v1/events", json=SMART_TOOLS[3:], headers=headers)
    member = api.client.get("/v1/members/alice", headers=headers).json()
    assert member["entitlements"] == {"commission_bonus_pct": 2, "commission_bonus_sales": 5}
    assert "smart_tool_master" in [b["key"] for b in member["badges"]]


def test_the_funnel_needs_program_admin_and_names_an_unknown_quest(api):
    writer = api.key("events:write", program="onboarding")
    api.client.post("/v1/events", json=SMART_TOOLS[:2], headers=writer)
    admin = api.key("program:admin", program="onboarding")
    funnel = api.client.get("/v1/quests/smart_tool_master/funnel", headers=admin).json()
    assert (funnel["started"], [s["completed"] for s in funnel["steps"]]) == (1, [1, 1, 0, 0, 0])
    assert [q["key"] for q in api.client.get("/v1/quests", headers=admin).json()] == [
        "onboarding",
        "smart_tool_master",
    ]
    reader = api.key("members:read", program="onboarding")
    assert api.client.get("/v1/quests", headers=reader).status_code == 403
    unknown = api.client.get("/v1/quests/smart_tool_mastr/funnel", headers=admin)
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "quest"


def test_another_programs_key_sees_none_of_its_quests(api):
    other = api.key("program:admin")  # the partner program, which has no quests
    before = row_counts(api.store)
    assert api.client.get("/v1/quests", headers=other).json() == []
    assert api.client.get("/v1/quests/onboarding/funnel", headers=other).status_code == 404
    assert row_counts(api.store) == before
