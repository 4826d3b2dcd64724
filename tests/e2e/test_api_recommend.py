"""A member's next best actions over HTTP: read with members:read or the member's own token,
dismissed by the member or a members:write key; a dismissal is logged and hides the candidate."""

from __future__ import annotations

import pytest

from accolade.engine.experiments import CONTROL, TREATMENT
from accolade.service.programs import publish
from accolade.service.recommend_training import train
from tests.e2e.builders import api_on
from tests.integration.builders import MONDAY, NOW, clock_at, publish_demo
from tests.integration.test_recommend import PLANTED, PROGRAM, SOURCE, planted_history
from tests.portal.test_portal_recommend import HELD_OUT, member_in


@pytest.fixture
def api(store):
    with api_on(store) as api:
        publish(store, SOURCE, clock=clock_at(NOW))
        headers = api.key("events:write", program=PROGRAM)
        history = planted_history(60)
        for start in range(0, len(history), 1000):
            posted = api.client.post(
                "/v1/events", json=history[start : start + 1000], headers=headers
            )
            assert posted.status_code == 200, posted.text
        train(store, PROGRAM, clock=api.clock)
        yield api


def test_next_ranks_the_planted_mechanic_first_with_its_reasons(api):
    headers = api.key("members:read", program=PROGRAM)
    got = api.client.get("/v1/members/b1/next?limit=3", headers=headers)
    assert got.status_code == 200, got.text
    body = got.json()["recommendations"]
    assert got.json()["held_out"] is None
    assert len(body) == 3 and body[0]["action"] == PLANTED["B"]
    assert body[0]["reasons"][0].startswith("referral earns points")
    assert {"rank", "key", "kind", "score", "probability", "source", "until"} <= body[0].keys()


def test_next_needs_members_read_or_the_members_own_token(api):
    events_only = api.key("events:write", program=PROGRAM)
    refused = api.client.get("/v1/members/b1/next", headers=events_only)
    assert refused.status_code == 403, refused.text
    token = api.client.post(
        "/v1/members/b1/token", headers=api.key("members:read", program=PROGRAM)
    ).json()["token"]
    own = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/v1/members/b1/next", headers=own).status_code == 200
    assert api.client.get("/v1/members/a0/next", headers=own).status_code == 403


def test_member_dismisses_a_candidate_which_leaves_their_list(api):
    read = api.key("members:read", program=PROGRAM)
    first = api.client.get("/v1/members/b1/next", headers=read).json()["recommendations"][0]["key"]
    token = api.client.post("/v1/members/b1/token", headers=read).json()["token"]
    own = {"Authorization": f"Bearer {token}"}
    done = api.client.post(f"/v1/members/b1/next/{first}/dismiss", headers=own)
    assert done.status_code == 200, done.text
    assert done.json()["candidate"] == first
    after = api.client.get("/v1/members/b1/next?limit=50", headers=read).json()["recommendations"]
    assert first not in [r["key"] for r in after]
    bad = api.client.post("/v1/members/b1/next/nonsense/dismiss", headers=own)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "candidate", bad.text
    read_only = api.client.post(f"/v1/members/a0/next/{first}/dismiss", headers=read)
    assert read_only.status_code == 403, read_only.text


def test_the_control_arm_gets_an_empty_list_saying_why(store):
    with api_on(store) as api:
        publish_demo(store, HELD_OUT)
        control, treated = member_in(CONTROL), member_in(TREATMENT)
        writer = api.key("events:write", "members:read", program="partner")
        sent = [
            {"id": f"q-{m}", "type": "quiz.passed", "member": m, "occurred_at": MONDAY.isoformat()}
            for m in (control, treated)
        ]
        assert api.client.post("/v1/events", json=sent, headers=writer).status_code == 200
        held = api.client.get(f"/v1/members/{control}/next", headers=writer)
        assert held.status_code == 200, held.text
        assert held.json() == {
            "member": control,
            "recommendations": [],
            "held_out": "experiment recs: control arm",
        }
        shown = api.client.get(f"/v1/members/{treated}/next", headers=writer).json()
        assert shown["held_out"] is None and shown["recommendations"]
