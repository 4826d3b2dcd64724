"""Input a sender should never send, and an attacker will: each is a clear 4xx naming the field,
nothing is stored for it, the rest of its batch is, and the connection carries on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accolade.engine.events import MAX_DEPTH
from tests.e2e.builders import api_on
from tests.integration.builders import quiz, row_counts


@pytest.fixture
def api(store):
    with api_on(store) as api:
        yield api


def _post(api, body: Any, headers: dict[str, str]):
    """POST /v1/events with ``body`` written by json.dumps, which keeps lone surrogates and
    numbers of any size as they are."""
    return api.client.post(
        "/v1/events",
        content=json.dumps(body),
        headers={**headers, "content-type": "application/json"},
    )


def _nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


HOSTILE = [
    ({"occurred_at": "9999-12-31T23:59:59-05:00"}, "occurred_at", "between 1970"),
    ({"occurred_at": "0001-01-01T00:00:00+05:00"}, "occurred_at", "between 1970"),
    ({"occurred_at": "1969-12-31T23:59:59Z"}, "occurred_at", "between 1970"),
    ({"properties": {"score": 1e300}}, "properties.score", "10^15"),
    ({"properties": {"score": 10**30}}, "properties.score", "10^15"),
    ({"properties": {"score": int("9" * 400)}}, "properties.score", "10^15"),
    ({"properties": {"score": -(10**15)}}, "properties.score", "10^15"),
    ({"id": "q\x00"}, "id", "NUL"),
    ({"member": "ali\x00ce"}, "member", "NUL"),
    ({"type": "quiz.passed\x00"}, "type", "NUL"),
    ({"company": "acme\x00"}, "company", "NUL"),
    ({"properties": {"quiz": "a\x00"}}, "properties.quiz", "NUL"),
    ({"properties": {"quiz\x00": "a"}}, "properties.quiz\\u0000", "NUL"),
    ({"properties": {"tags": ["ok", "\x00"]}}, "properties.tags[1]", "NUL"),
    ({"attributes": {"region": "\x00"}}, "attributes.region", "NUL"),
    ({"member": "\ud800"}, "member", "surrogate"),
    ({"properties": {"quiz": "\udfff"}}, "properties.quiz", "surrogate"),
    ({"properties": {"\ud800": 1}}, "properties.\\ud800", "surrogate"),
    ({"properties": {"deep": _nested(MAX_DEPTH + 1)}}, "properties.deep", "levels"),
]


@pytest.mark.parametrize(("change", "field", "says"), HOSTILE)
def test_a_hostile_event_is_422_naming_the_field_and_stores_nothing(api, change, field, says):
    headers = api.key("events:write")
    before = row_counts(api.store)

    response = _post(api, {**quiz("q1"), **change}, headers)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_event"
    assert error["field"].startswith(field), error
    assert says in error["message"], error
    assert row_counts(api.store) == before


def test_hostile_events_in_a_batch_are_rejected_one_by_one_and_the_rest_is_stored(api):
    headers = api.key("events:write", "members:read")
    batch = [{**quiz(f"bad-{i}"), **change} for i, (change, _, _) in enumerate(HOSTILE)]
    batch.insert(3, quiz("good-1"))
    batch.append(quiz("good-2", member="bob"))

    response = _post(api, batch, headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (2, len(HOSTILE))
    statuses = {r.get("id"): r["status"] for r in body["results"]}
    assert statuses["good-1"] == statuses["good-2"] == "accepted"
    # an id that is not storable text is not echoed back: the results stay valid JSON text
    assert all("\x00" not in (r.get("id") or "") for r in body["results"])
    assert api.client.get("/v1/events/good-2", headers=headers).status_code == 200
    assert api.client.get("/v1/events/bad-0", headers=headers).status_code == 404


@pytest.mark.parametrize("shape", ["[", '{"properties": {"a": ['])
def test_a_body_nested_10000_levels_is_400_and_the_server_answers_the_next_request(api, shape):
    headers = api.key("events:write")
    closing = "]" * 10_000 + ("}}" if shape.startswith("{") else "")

    response = api.client.post(
        "/v1/events",
        content=shape + "[" * 10_000 + closing,
        headers={**headers, "content-type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == "body"
    assert "too deeply" in response.json()["error"]["message"]
    assert _post(api, quiz("q1"), headers).status_code == 201


@pytest.mark.parametrize(
    ("attributes", "field", "says"),
    [
        ({"region": "emea\x00"}, "attributes.region", "NUL"),
        ({"region\x00": "emea"}, "attributes.region\\u0000", "NUL"),
        ({"region": "\ud800"}, "attributes.region", "surrogate"),
        ({"seats": 10**30}, "attributes.seats", "10^15"),
        ({"seats": 1e300}, "attributes.seats", "10^15"),
    ],
)
def test_a_patch_with_unstorable_attributes_is_422_naming_the_attribute(
    api, attributes, field, says
):
    headers = api.key("events:write", "members:write", "members:read")
    assert _post(api, quiz("q1"), headers).status_code == 201
    before = row_counts(api.store)

    response = api.client.patch(
        "/v1/members/alice",
        content=json.dumps({"attributes": attributes}),
        headers={**headers, "content-type": "application/json"},
    )

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field and says in error["message"], error
    assert row_counts(api.store) == before


def test_a_nul_in_the_path_or_the_query_is_422_on_every_database(api):
    headers = api.key("members:read", "referrals:write")

    in_path = api.client.get("/v1/members/ali%00ce", headers=headers)
    in_query = api.client.get("/v1/referrals?member=ali%00ce", headers=headers)

    assert in_path.status_code == 422, in_path.text
    assert in_path.json()["error"] == {
        "code": "invalid_input",
        "message": "must not contain the NUL character (\\u0000)",
        "field": "path",
    }
    assert in_query.status_code == 422, in_query.text
    assert in_query.json()["error"]["field"] == "member"


def test_a_nul_in_any_json_body_is_422_naming_the_field(api):
    headers = api.key("events:write")
    assert _post(api, quiz("q1"), headers).status_code == 201
    before = row_counts(api.store)

    response = api.client.post(
        "/v1/events/q1/reversal",
        content=json.dumps({"reason": "fraud\x00"}),
        headers={**headers, "content-type": "application/json"},
    )

    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "reason"
    assert row_counts(api.store) == before


def test_an_escaped_emoji_is_text_like_any_other(api):
    headers = api.key("events:write", "members:write")
    assert _post(api, quiz("q1"), headers).status_code == 201

    response = api.client.patch(
        "/v1/members/alice",
        content='{"attributes": {"mood": "\\ud83d\\ude00"}}',
        headers={**headers, "content-type": "application/json"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["attributes"]["mood"] == "\N{GRINNING FACE}"


def test_a_body_over_the_limit_is_413_before_it_is_read(store):
    with api_on(store, max_body_bytes=4096) as api:
        headers = {**api.key("events:write"), "content-type": "application/json"}
        big = json.dumps([quiz(f"q{i}") for i in range(40)])
        assert len(big) > 4096
        before = row_counts(api.store)

        declared = api.client.post("/v1/events", content=big, headers=headers)
        chunked = api.client.post(
            "/v1/events", content=(big[i : i + 1000].encode() for i in range(0, len(big), 1000))
        )
        fits = api.client.post("/v1/events", content=json.dumps([quiz("q1")]), headers=headers)

    for response in (declared, chunked):
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "too_large"
        assert response.json()["error"]["field"] == "body"
        assert "ACCOLADE_MAX_BODY_BYTES" in response.json()["error"]["message"]
    assert fits.status_code == 200
    assert row_counts(store)["events"] == before["events"] + 1


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/v1/members/alice", "GET, PATCH"),
        ("GET", "/v1/challenges/close", None),  # GET of the challenge named "close": served
        ("PUT", "/v1/challenges/close", "POST"),
        ("PUT", "/v1/program/versions", "GET, POST"),
    ],
)
def test_a_405_names_every_method_the_resource_has(api, method, path, allow):
    response = api.client.request(method, path, headers=api.key())

    if allow is None:
        assert response.status_code != 405
        return
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow


@pytest.mark.parametrize(
    "body", [{"ttl_seconds": True}, {"ttl_seconds": "60"}, {"ttl_seconds": 60, "scope": "all"}]
)
def test_a_token_request_that_is_not_its_schema_is_422(api, body):
    headers = api.key("events:write", "members:read")
    assert _post(api, quiz("q1"), headers).status_code == 201

    response = api.client.post("/v1/members/alice/token", json=body, headers=headers)

    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "path",
    [
        "/v1/members/alice/ledger?cursor=178054852734214140329984",
        "/v1/referrals?before=9223372036854775808",
        "/v1/redemptions?before=9223372036854775808",
        "/v1/leaderboards/all_time?offset=9223372036854775808",
    ],
)
def test_a_cursor_or_offset_beyond_64_bits_is_422_naming_it(api, path):
    headers = api.key()
    assert _post(api, quiz("q1"), headers).status_code == 201

    response = api.client.get(path, headers=headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == path.split("?")[1].split("=")[0]
