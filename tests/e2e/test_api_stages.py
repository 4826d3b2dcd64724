"""Lifecycle stages over HTTP: the member's stage, its rewards and next step; the webhook."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from accolade.service.webhooks import subscribe
from accolade.store.tables import outbox
from tests.e2e.builders import api_on
from tests.integration.builders import MONDAY, clock_at, publish_demo

LIFECYCLE = (Path(__file__).parents[2] / "examples" / "lifecycle.yaml").read_text()


def ev(id, type, at):
    return {"id": id, "type": type, "member": "alice", "occurred_at": at.isoformat()}


def test_a_member_sees_their_stage_its_rewards_and_what_comes_next(store):
    with api_on(store) as api:
        publish_demo(store, LIFECYCLE)
        subscribe(store, "saas", "https://crm.example.com/hook", "stage.changed", clock=clock_at())
        headers = api.key("events:write", "members:read", program="saas")
        api.client.post("/v1/events", json=ev("w", "workspace.created", MONDAY), headers=headers)
        member = api.client.get("/v1/members/alice", headers=headers).json()
        assert member["stage"]["key"] == "onboarding"
        assert member["stage"]["next_stage"] == {
            "key": "activated",
            "name": "Activated",
            "how": "report_run 3 times within 14d",
        }
        reports = [ev(f"r{i}", "report.run", MONDAY + timedelta(hours=i + 1)) for i in range(3)]
        api.client.post("/v1/events", json=reports, headers=headers)
        member = api.client.get("/v1/members/alice", headers=headers).json()
        assert (member["stage"]["key"], member["entitlements"]) == (
            "activated",
            {"template_pack": "advanced"},
        )
        assert member["stage"]["next_step"].startswith("Renew your subscription")
        with store.engine.connect() as conn:
            told = [
                json.loads(p)["data"]
                for (p,) in conn.execute(select(outbox.c.payload).order_by(outbox.c.id))
            ]
        # one message per event: the first one went through trial into onboarding at once
        assert [(t["from"], t["to"]) for t in told] == [
            (None, "onboarding"),
            ("onboarding", "activated"),
        ]
