"""POST /v1/events: one event or a batch, idempotent by id; reversal; an event's effects."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from accolade.api.events import BatchResult, EventResult
from tests.e2e.builders import api_on
from tests.integration.builders import quiz, row_counts, video


@pytest.fixture
def api(store):
    with api_on(store) as api:
        yield api


def test_an_accepted_event_answers_201_with_its_entries(api):
    response = api.client.post("/v1/events", json=quiz("q1"), headers=api.key("events:write"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == "q1" and body["status"] == "accepted" and body["points"] == 100
    assert [e["rule"] for e in body["entries"]][:2] == [
        "action:quiz_passed",
        "badge:certified_user",
    ]


def test_the_same_event_again_returns_the_first_result_and_writes_nothing(api):
    headers = api.key("events:write")
    first = api.client.post("/v1/events", json=quiz("q1"), headers=headers).json()
    before = row_counts(api.store)
    again = api.client.post("/v1/events", json=quiz("q1"), headers=headers)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["first"] == {k: v for k, v in first.items() if k != "id"}
    assert row_counts(api.store) == before


def test_the_same_id_with_another_body_is_a_conflict(api):
    headers = api.key("events:write")
    api.client.post("/v1/events", json=quiz("q1"), headers=headers)
    response = api.client.post("/v1/events", json=video("q1"), headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"type": "quiz.pased"}, "type"),
        ({"member": ""}, "member"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_event_is_422_naming_the_field_and_stores_nothing(api, change, field):
    headers = api.key("events:write")
    before = row_counts(api.store)
    response = api.client.post("/v1/events", json={**quiz("q1"), **change}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert row_counts(api.store) == before


def test_a_batch_answers_each_event_in_order(api):
    headers = api.key("events:write")
    api.client.post("/v1/events", json=quiz("q0", member="bob"), headers=headers)
    batch = [quiz("q1"), {**quiz("q2"), "occurred_at": "soon"}, quiz("q0", member="bob")]
    response = api.client.post("/v1/events", json=batch, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected", "duplicate"]
    assert body["results"][1]["error"]["field"] == "occurred_at"
    assert (body["accepted"], body["rejected"], body["duplicate"]) == (1, 1, 1)


def test_event_results_have_exactly_the_documented_shape(api):
    """The endpoint writes its results as plain data: they must still be what EventResult
    and BatchResult document, with no undocumented key and no null."""
    headers = api.key("events:write")
    single = api.client.post("/v1/events", json=quiz("q0"), headers=headers).json()
    batch = [quiz("q1"), {**quiz("q2"), "occurred_at": "soon"}, quiz("q0"), video("v1")]
    body = api.client.post("/v1/events", json=batch, headers=headers).json()

    def check(model: type[BaseModel], data: dict) -> None:
        assert set(data) <= set(model.model_fields), data
        assert None not in data.values(), data
        model.model_validate(data)

    check(EventResult, single)
    check(BatchResult, body)
    for result in body["results"]:
        check(EventResult, result)


def test_a_batch_over_1000_events_is_refused_whole(api):
    headers = api.key("events:write")
    before = row_counts(api.store)
    batch = [video(f"v{i}") for i in range(1001)]
    response = api.client.post("/v1/events", json=batch, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "body"
    assert row_counts(api.store) == before


def test_a_body_that_is_not_json_is_400(api):
    response = api.client.post("/v1/events", content=b"{not json", headers=api.key())
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_request",
        "message": "the body is not valid JSON",
        "field": "body",
    }


def test_an_idempotency_key_header_gives_a_single_event_its_id(api):
    body = quiz("ignored")
    del body["id"]
    headers = {**api.key("events:write"), "Idempotency-Key": "quiz-from-header"}
    first = api.client.post("/v1/events", json=body, headers=headers)
    again = api.client.post("/v1/events", json=body, headers=headers)
    assert first.json()["id"] == "quiz-from-header" and first.status_code == 201
    assert again.json()["status"] == "duplicate"


def test_reversal_takes_back_the_points_and_shows_on_the_event(api):
    headers = api.key("events:write", "members:read")
    api.client.post("/v1/events", json=quiz("q1"), headers=headers)
    reversed_ = api.client.post(
        "/v1/events/q1/reversal", json={"reason": "cheated"}, headers=headers
    )
    assert reversed_.status_code == 200, reversed_.text
    assert reversed_.json()["points"] == -100
    shown = api.client.get("/v1/events/q1", headers=headers).json()
    assert shown["result"]["points"] == 100 and shown["reversal"]["reason"] == "cheated"
    member = api.client.get("/v1/members/alice", headers=headers).json()
    assert member["balance"] == 0 and member["badges"] == []


def test_reversal_needs_a_reason_and_a_known_event(api):
    headers = api.key("events:write")
    empty = api.client.post("/v1/events/q1/reversal", json={"reason": ""}, headers=headers)
    unknown = api.client.post("/v1/events/nope/reversal", json={"reason": "x"}, headers=headers)
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "reason"
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "event_id"
