"""Experiments over HTTP: a member's arm, the report a console charts, a decision recorded, and
the scopes and bad input on the way."""

from __future__ import annotations

import pytest

from tests.e2e.builders import api_on
from tests.integration.builders import publish_demo, row_counts
from tests.integration.test_experiments import AFTER, EMEA, JULY, PILOT, ev


@pytest.fixture
def api(store):
    with api_on(store) as api:
        publish_demo(store, PILOT)
        api.clock.now = JULY
        yield api


def test_arms_report_and_decision_over_http(api):
    writer = api.key("events:write", "members:read", program="pilot")
    sent = [ev(f"l{i}", "login", f"m{i}", attributes=EMEA) for i in range(40)]
    sent += [ev(f"w{i}", "webinar.attended", f"m{i}") for i in range(0, 40, 2)]
    assert api.client.post("/v1/events", json=sent, headers=writer).status_code == 200
    member = api.client.get("/v1/members/m0", headers=writer).json()
    [arm] = member["experiments"]
    assert (arm["experiment"], arm["running"]) == ("webinar_points", True)
    assert arm["arm"] in ("control", "treatment")

    api.clock.now = AFTER
    reader = api.key("analytics:read", program="pilot")
    [listed] = api.client.get("/v1/experiments", headers=reader).json()
    assert (listed["key"], listed["status"]) == ("webinar_points", "ended")
    report = api.client.get("/v1/experiments/webinar_points", headers=reader).json()
    assert sum(a["members"] for a in report["arms"]) == 40
    activation = report["outcomes"][0]
    assert activation["metric"] == "activation"
    assert activation["difference"] == pytest.approx(
        activation["treatment"] - activation["control"]
    )
    assert report["srm"]["observed"] == {a["arm"]: a["members"] for a in report["arms"]}

    admin = api.key("program:admin", program="pilot")
    decision = {"decision": "stop", "decided_by": "Dana", "reason": "no lift"}
    assert (
        api.client.post("/v1/experiments/webinar_points/decision", json=decision, headers=reader)
    ).status_code == 403
    made = api.client.post("/v1/experiments/webinar_points/decision", json=decision, headers=admin)
    assert made.status_code == 201, made.text
    report = api.client.get("/v1/experiments/webinar_points", headers=reader).json()
    assert report["decision"]["decision"] == "stop"


def test_bad_input_is_a_4xx_naming_the_field_and_stores_nothing(api):
    admin = api.key("program:admin", "analytics:read", program="pilot")
    before = row_counts(api.store)
    missing = api.client.get("/v1/experiments/nope", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["error"]["field"] == "experiment"
    blank = {"decision": "ship", "decided_by": "  ", "reason": "why"}
    refused = api.client.post("/v1/experiments/webinar_points/decision", json=blank, headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == "decided_by"
    unknown = {"decision": "launch", "decided_by": "Dana", "reason": "why"}
    refused = api.client.post(
        "/v1/experiments/webinar_points/decision", json=unknown, headers=admin
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "decision"
    assert row_counts(api.store) == before
