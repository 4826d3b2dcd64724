"""POST /v1/program/simulate: a draft (YAML body) over the event log; the difference as lists a
console charts; bad input is a 4xx naming the field, with nothing stored."""

from __future__ import annotations

import pytest

from tests.e2e.builders import api_on
from tests.integration.builders import DEMO_SOURCE, demo_with, quizzes, row_counts


@pytest.fixture
def api(store):
    with api_on(store) as api:
        events = api.client.post(
            "/v1/events", json=quizzes(45) + quizzes(3, "bob", prefix="bob"), headers=api.key()
        )
        assert events.status_code == 200, events.text
        yield api


def test_simulate_answers_the_difference_and_writes_only_its_record(api):
    headers = api.key("program:admin")
    before = row_counts(api.store)

    response = api.client.post(
        "/v1/program/simulate",
        params={"member": "alice"},
        content=demo_with("points: 100\n", "points: 200\n"),
        headers=headers,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    quiz = next(f for f in body["points"] if f["key"] == "action:quiz_passed")
    assert quiz == {"key": "action:quiz_passed", "actual": 4800, "simulated": 9600, "delta": 4800}
    assert body["tier_moves"] == [{"member": "alice", "before": "bronze", "after": "silver"}]
    assert {"key": "silver", "actual": 0, "simulated": 1, "delta": 1} in body["tiers"]
    [alice] = body["member_details"]
    assert (alice["actual"]["lifetime"], alice["simulated"]["lifetime"]) == (4500, 9000)
    after = row_counts(api.store)
    assert after.pop("program_simulations") == before.pop("program_simulations") + 1
    assert after == before


@pytest.mark.parametrize(
    ("params", "body", "status", "field"),
    [
        ({}, demo_with("points: 10\n", "points: -10\n"), 422, "actions[0].points"),
        ({}, DEMO_SOURCE.replace("key: partner", "key: elsewhere", 1), 422, "key"),
        ({"from": "2026-06-01", "to": "2026-05-01"}, DEMO_SOURCE, 422, "to"),
        ({"member": "nobody"}, DEMO_SOURCE, 404, "member"),
        ({}, "", 400, "body"),
    ],
    ids=["invalid draft", "another program", "reversed range", "unknown member", "no body"],
)
def test_bad_input_is_a_4xx_naming_the_field_and_stores_nothing(api, params, body, status, field):
    headers = api.key("program:admin")
    before = row_counts(api.store)

    response = api.client.post("/v1/program/simulate", params=params, content=body, headers=headers)

    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert row_counts(api.store) == before


def test_simulate_needs_the_program_admin_scope(api):
    response = api.client.post(
        "/v1/program/simulate", content=DEMO_SOURCE, headers=api.key("members:read")
    )

    assert response.status_code == 403, response.text
