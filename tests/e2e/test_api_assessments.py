"""Assessments over HTTP: a lead's answers posted as events, the result read back, a bad answer
refused naming its field, and the `lead.assessed` message reaching a webhook subscriber."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from accolade.integrations.webhooks import HttpSender
from accolade.service.programs import publish
from accolade.service.webhooks import deliver_due
from tests.assessment_program import ASSESSMENT_PROGRAM, HOT_ANSWERS, assessment_events
from tests.e2e.builders import api_on
from tests.integration.builders import clock_at, row_counts
from tests.integration.test_webhooks import receiver  # noqa: F401  (a real HTTP receiver)


@pytest.fixture
def api(store):
    with api_on(store) as api:
        publish(store, ASSESSMENT_PROGRAM, clock=clock_at())
        api.clock.now = datetime.now(UTC)  # signatures must be fresh for the receiver
        yield api


def test_a_leads_result_is_read_with_each_answers_scores(api):
    headers = api.key("events:write", "members:read", program="diag")
    posted = api.client.post(
        "/v1/events", json=assessment_events("ann", HOT_ANSWERS), headers=headers
    )
    assert posted.status_code == 200, posted.text
    got = api.client.get("/v1/assessments/readiness/results/ann", headers=headers)
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["total"], body["level"], body["segment"]) == (21, "ready", "hot")
    assert body["answers"][0] == {
        "question": "warehouse_in_place",
        "answer": "has_one",
        "scores": {"maturity": 3},
    }
    assert body["sales_note"].startswith("ann scored 21 (Ready)")


def with_email(events: list[dict], email: str) -> list[dict]:
    return [{**events[0], "attributes": {"email": email}}, *events[1:]]


def test_leads_are_found_by_their_email_attribute_or_an_email_id(api):
    headers = api.key("events:write", "members:read", program="diag")
    for events in (
        with_email(assessment_events("ann", HOT_ANSWERS), "Ann@Example.com"),
        assessment_events("ann@example.com", HOT_ANSWERS),
        with_email(assessment_events("bo", HOT_ANSWERS), "bo@example.com"),
    ):
        posted = api.client.post("/v1/events", json=events, headers=headers)
        assert posted.status_code == 200, posted.text
    url = "/v1/assessments/readiness/results"
    found = api.client.get(url, params={"email": " ANN@example.com"}, headers=headers)
    assert found.status_code == 200, found.text
    assert [(r["lead"], r["segment"]) for r in found.json()] == [
        ("ann", "hot"),
        ("ann@example.com", "hot"),
    ]
    nobody = api.client.get(url, params={"email": "cy@example.com"}, headers=headers)
    assert nobody.json() == []
    bad = api.client.get(url, params={"email": "not an address"}, headers=headers)
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "email")
    unknown = api.client.get(
        "/v1/assessments/nope/results", params={"email": "bo@example.com"}, headers=headers
    )
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (404, "assessment")
    writer = api.key("events:write", program="diag")
    refused = api.client.get(url, params={"email": "bo@example.com"}, headers=writer)
    assert refused.status_code == 403


def test_a_bad_answer_is_a_422_naming_the_field_and_stores_nothing(api):
    headers = api.key("events:write", program="diag")
    before = row_counts(api.store)
    bad = assessment_events("ann", {"team_confidence": 9}, complete=False)[1]
    answer = api.client.post("/v1/events", json=bad, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "properties.answer"
    assert "9 is out of range for question 'team_confidence'" in answer.json()["error"]["message"]
    assert row_counts(api.store) == before


def test_a_result_not_there_is_a_404_and_needs_members_read(api):
    reader = api.key("members:read", program="diag")
    missing = api.client.get("/v1/assessments/readiness/results/nobody", headers=reader)
    assert (missing.status_code, missing.json()["error"]["field"]) == (404, "lead")
    writer = api.key("events:write", program="diag")
    refused = api.client.get("/v1/assessments/readiness/results/nobody", headers=writer)
    assert refused.status_code == 403


def test_the_lead_assessed_message_reaches_a_subscriber_signed(api, receiver):  # noqa: F811
    admin = api.key("webhooks:admin", "events:write", program="diag")
    made = api.client.post(
        "/v1/webhooks",
        json={"url": f"{receiver.url}/hook", "types": ["lead.assessed"]},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    api.client.post("/v1/events", json=assessment_events("ann", HOT_ANSWERS), headers=admin)
    with HttpSender(timeout=5.0) as send:
        done = deliver_due(api.store, send, clock=api.clock, max_attempts=2, backoff_seconds=30)
    assert done.delivered == 1
    last = receiver.requests[-1]
    payload = Webhook(made.json()["secret"]).verify(last.body, last.headers)
    assert payload["type"] == "lead.assessed"
    assert payload["data"]["segment"] == "hot"
    assert payload["data"]["nurture_path"] == "sales_fast_track"
    assert payload["data"]["fields"]["data_sources"] == "crm;erp"


def test_validate_answers_a_question_that_feeds_nothing_as_a_warning(api):
    headers = api.key("program:admin", program="diag")
    source = ASSESSMENT_PROGRAM.replace(
        "    levels:\n",
        "      - key: colour\n        kind: number\n        text: Favourite number?\n"
        "        required: false\n    levels:\n",
    )
    answer = api.client.post("/v1/program/validate", content=source, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["valid"] is True
    assert answer.json()["warnings"] == [
        {
            "field": "assessments[0].questions[5]",
            "message": "question 'colour' feeds no score, segment, CRM field or sales note: ask "
            "only what improves segmentation or follow-up",
        }
    ]


def test_the_report_needs_analytics_read_and_counts_completion(api):
    writer = api.key("events:write", program="diag")
    api.client.post("/v1/events", json=assessment_events("ann", HOT_ANSWERS), headers=writer)
    refused = api.client.get("/v1/assessments/readiness/report", headers=writer)
    assert refused.status_code == 403
    reader = api.key("analytics:read", program="diag")
    got = api.client.get("/v1/assessments/readiness/report", headers=reader)
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["started"], body["completed"], body["completion_percent"]) == (1, 1, 100.0)
    assert body["segments"][0] == {
        "key": "hot",
        "name": "Ready to buy",
        "leads": 1,
        "share_percent": 100.0,
        "qualified": 0,
        "conversion_percent": 0.0,
    }
    missing = api.client.get("/v1/assessments/nope/report", headers=reader)
    assert (missing.status_code, missing.json()["error"]["field"]) == (404, "assessment")
