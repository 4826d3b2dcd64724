"""Release records (notes, approver) of publishes and rollbacks, the simulation a publish may
require, and the rule changes between two versions, over HTTP."""

from __future__ import annotations

import pytest

from tests.e2e.builders import api_on
from tests.integration.builders import demo_with, row_counts

YAML = {"Content-Type": "application/yaml"}
LEADS_AT_750 = demo_with("points: 500\n", "points: 750\n")


@pytest.fixture
def api(store):
    with api_on(store) as api:
        yield api


def upload(api, headers, source=LEADS_AT_750) -> int:
    draft = api.client.post("/v1/program/versions", content=source, headers={**headers, **YAML})
    assert draft.status_code == 201, draft.text
    return int(draft.json()["version"])


def versions(api, headers) -> list[dict]:
    response = api.client.get("/v1/program/versions", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_publish_with_notes_and_approver_keeps_them_as_its_release_record(api):
    headers = api.key("program:admin")
    version = upload(api, headers)

    published = api.client.post(
        f"/v1/program/versions/{version}/publish",
        json={"notes": "Q3: leads worth 750", "approved_by": "Dana Reyes"},
        headers=headers,
    )

    assert published.json() == {"active_version": 2}, published.text
    latest = versions(api, headers)[-1]
    assert (latest["action"], latest["notes"], latest["approved_by"]) == (
        "publish",
        "Q3: leads worth 750",
        "Dana Reyes",
    )
    assert latest["released_at"] is not None
    active = api.client.get("/v1/program", headers=headers).json()["version"]
    assert (active["version"], active["notes"]) == (2, "Q3: leads worth 750")


def test_a_draft_never_published_has_no_release_record(api):
    headers = api.key("program:admin")
    upload(api, headers)

    first, draft = versions(api, headers)

    assert first["action"] == "publish"
    assert [draft[k] for k in ("released_at", "action", "notes", "approved_by")] == [None] * 4


def test_publish_without_a_body_still_works_and_records_no_notes(api):
    headers = api.key("program:admin")
    version = upload(api, headers)

    published = api.client.post(f"/v1/program/versions/{version}/publish", headers=headers)

    assert published.status_code == 200, published.text
    latest = versions(api, headers)[-1]
    assert (latest["active"], latest["notes"], latest["approved_by"]) == (True, None, None)


def test_rollback_keeps_its_notes_and_approver(api):
    headers = api.key("program:admin")
    api.client.post(f"/v1/program/versions/{upload(api, headers)}/publish", headers=headers)

    rolled = api.client.post(
        "/v1/program/rollback",
        json={"notes": "lead spam", "approved_by": "Sam"},
        headers=headers,
    )

    assert rolled.json() == {"active_version": 1}, rolled.text
    first = versions(api, headers)[0]
    assert (first["active"], first["action"], first["notes"], first["approved_by"]) == (
        True,
        "rollback",
        "lead spam",
        "Sam",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"notes": "x" * 2001}, "notes"),
        ({"approved_by": ""}, "approved_by"),
        ({"approved_by": "   "}, "approved_by"),
        ({"approved_by": "x" * 201}, "approved_by"),
    ],
)
def test_a_bad_release_record_is_422_naming_the_field_and_changes_nothing(api, body, field):
    headers = api.key("program:admin")
    version = upload(api, headers)
    before = row_counts(api.store)

    published = api.client.post(
        f"/v1/program/versions/{version}/publish", json=body, headers=headers
    )
    rolled = api.client.post("/v1/program/rollback", json={"to": 2, **body}, headers=headers)

    for response in (published, rolled):
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field
    assert row_counts(api.store) == before
    assert [v["active"] for v in versions(api, headers)] == [True, False]


def test_when_simulation_is_required_an_unsimulated_draft_is_409(store):
    with api_on(store, publish_requires_simulation=True) as api:
        headers = api.key("program:admin")
        version = upload(api, headers)

        refused = api.client.post(f"/v1/program/versions/{version}/publish", headers=headers)

        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert error["field"] == "version"
        assert "accolade program simulate FILE" in error["message"]
        assert [v["active"] for v in versions(api, headers)] == [True, False]


def test_when_simulation_is_required_a_simulated_draft_is_published(store):
    from accolade.program.loader import load_program, program_hash

    with api_on(store, publish_requires_simulation=True) as api:
        headers = api.key("program:admin")
        version = upload(api, headers)
        with store.transaction() as uow:  # what `accolade program simulate` records
            program = uow.programs.program_by_key("partner")
            digest = program_hash(load_program(LEADS_AT_750))
            uow.programs.record_simulation(program.id, digest, api.clock(), "{}")

        published = api.client.post(f"/v1/program/versions/{version}/publish", headers=headers)

        assert published.json() == {"active_version": version}, published.text


def test_diff_lists_the_rule_changes_between_two_versions(api):
    headers = api.key("program:admin")
    upload(api, headers)

    response = api.client.get("/v1/program/diff", params={"from": 1, "to": 2}, headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["program"], body["from_version"], body["to_version"]) == ("partner", 1, 2)
    assert body["changes"] == [
        {
            "section": "actions",
            "key": "lead_registered",
            "field": "points",
            "before": 500,
            "after": 750,
            "text": "action 'lead_registered': points 500 → 750",
        }
    ]


def test_diff_from_defaults_to_the_active_version(api):
    headers = api.key("program:admin")
    upload(api, headers)

    body = api.client.get("/v1/program/diff", params={"to": 2}, headers=headers).json()

    assert body["from_version"] == 1 and len(body["changes"]) == 1


def test_diff_with_an_unknown_version_is_404_naming_version(api):
    headers = api.key("program:admin")

    response = api.client.get("/v1/program/diff", params={"from": 1, "to": 9}, headers=headers)

    assert response.status_code == 404, response.text
    assert response.json()["error"]["field"] == "version"


def test_diff_needs_the_program_admin_scope(api):
    response = api.client.get("/v1/program/diff", params={"to": 1}, headers=api.key("members:read"))

    assert response.status_code == 403, response.text
