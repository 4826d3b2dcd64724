"""Quests through the store: progress survives saves, replay and reversal; funnels; webhooks."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from accolade.service import members as members_service
from accolade.service.ingest import ingest_batch
from accolade.service.quests import funnel, funnels
from accolade.service.replay import replay
from accolade.service.reverse import reverse
from accolade.service.webhooks import subscribe
from accolade.store.tables import outbox
from accolade.store.unit_of_work import Store

from .builders import MONDAY, NOW, clock_at, projection, publish_demo
from .builders import event as ev

ONBOARDING = (Path(__file__).parents[2] / "examples" / "onboarding-quest.yaml").read_text()
HOUR = timedelta(hours=1)


def onboarding_steps(member: str, steps: int, start=MONDAY):
    sent = [
        ev(f"{member}-w", "video.watched", member, start, video="welcome"),
        ev(f"{member}-p", "profile.completed", member, start + HOUR),
        ev(f"{member}-q", "quiz.passed", member, start + 3 * HOUR, quiz="core_features", score=90),
        ev(f"{member}-i", "colleague.invited", member, start + 4 * HOUR),
    ]
    return sent[:steps]


def send(store: Store, events):
    return ingest_batch(store, "onboarding", list(enumerate(events, 1)), clock=clock_at())


def test_a_member_sees_quest_progress_after_two_steps(store: Store) -> None:
    publish_demo(store, ONBOARDING)
    send(store, onboarding_steps("alice", 2))
    view = members_service.show(store, "onboarding", "alice", clock=clock_at(MONDAY + 5 * HOUR))
    [quest] = [q for q in view.quests if q.key == "onboarding"]
    assert (quest.percent, quest.status, view.lifetime) == (50, "in_progress", 50)
    assert quest.next_step is not None and quest.next_step.key == "core_quiz"


def test_the_funnel_shows_drop_off_and_median_time_per_step(store: Store) -> None:
    publish_demo(store, ONBOARDING)
    for n, steps in enumerate([4, 4, 3, 2, 2, 1]):
        send(store, onboarding_steps(f"m{n}", steps))
    send(store, [ev("other", "project.logged", "m9")])  # not on the onboarding quest
    found = funnel(store, "onboarding", "onboarding")
    assert (found.started, found.completed, found.completion_percent) == (6, 2, 33.3)
    assert [s.completed for s in found.steps] == [6, 5, 3, 2]
    assert [s.drop_off for s in found.steps] == [0, 1, 2, 1]
    assert [s.median_seconds for s in found.steps] == [None, 3600, 7200, 3600]
    assert {f.key: f.started for f in funnels(store, "onboarding")} == {
        "onboarding": 6,
        "smart_tool_master": 1,
    }


def test_replay_rebuilds_quest_progress_exactly(store: Store) -> None:
    publish_demo(store, ONBOARDING)
    for n, steps in enumerate([4, 2, 3]):
        send(store, onboarding_steps(f"m{n}", steps))
    before = projection(store)
    replay(store, "onboarding", clock=clock_at())
    assert projection(store) == before
    assert before["members"]["m0"]["progress"]["quests_done"] == {
        "onboarding": int((MONDAY + 4 * HOUR).timestamp())
    }


def test_reversing_the_last_step_undoes_the_quest_and_tells_the_host(store: Store) -> None:
    publish_demo(store, ONBOARDING)
    subscribe(store, "onboarding", "https://crm.example.com/hook", "*", clock=clock_at())
    tools = [
        ev("v1", "video.watched", at=MONDAY, video="smart_drill"),
        ev("v2", "video.watched", at=MONDAY + HOUR, video="smart_saw"),
        ev("v3", "video.watched", at=MONDAY + 2 * HOUR, video="smart_level"),
        ev("q1", "quiz.passed", at=MONDAY + 3 * HOUR, quiz="smart_tools", score=85),
        ev("p1", "project.logged", at=MONDAY + 4 * HOUR),
    ]
    send(store, tools)
    view = members_service.show(store, "onboarding", "alice", clock=clock_at(NOW))
    assert view.entitlements == {"commission_bonus_pct": 2, "commission_bonus_sales": 5}

    reverse(store, "onboarding", "p1", "project logged by mistake", clock=clock_at())

    view = members_service.show(store, "onboarding", "alice", clock=clock_at(MONDAY + 5 * HOUR))
    assert view.entitlements == {}
    assert "smart_tool_master" not in [b.key for b in view.badges]
    with store.engine.connect() as conn:
        told = [
            json.loads(p) for (p,) in conn.execute(select(outbox.c.payload).order_by(outbox.c.id))
        ]
    quest_messages = [
        (m["type"], m["data"]["quest"]) for m in told if m["type"].startswith("quest.")
    ]
    assert quest_messages == [
        ("quest.completed", "smart_tool_master"),
        ("quest.undone", "smart_tool_master"),
    ]
    entitled = {"commission_bonus_pct": 2, "commission_bonus_sales": 5}
    assert all(
        m["data"]["entitlements"] == entitled for m in told if m["type"].startswith("quest.")
    )
