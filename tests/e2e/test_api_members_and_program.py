"""Members (read, ledger pages, explain, attribute changes) and program versions over HTTP."""

from __future__ import annotations

import pytest

from accolade.service.replay import replay
from tests.e2e.builders import api_on
from tests.integration.builders import DEMO_SOURCE, demo_with, quizzes, row_counts, video


@pytest.fixture
def api(store):
    with api_on(store) as api:
        yield api


def test_a_member_shows_tier_benefits_badges_and_the_way_to_the_next_tier(api):
    headers = api.key("events:write", "members:read")
    api.client.post("/v1/events", json=quizzes(3), headers=headers)
    member = api.client.get("/v1/members/alice", headers=headers).json()
    assert (member["balance"], member["lifetime"], member["tier"]) == (300, 300, "bronze")
    assert (member["tier_name"], member["next_tier"], member["next_tier_name"]) == (
        "Bronze",
        "silver",
        "Silver",
    )
    assert member["points_to_next_tier"] == 4700
    assert [b["key"] for b in member["badges"]] == ["certified_user"]
    assert member["benefits"]


def test_an_unknown_member_is_404_naming_the_member(api):
    response = api.client.get("/v1/members/nobody", headers=api.key("members:read"))
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "member"


def test_the_ledger_pages_newest_first_and_ends(api):
    headers = api.key("events:write", "members:read")
    api.client.post("/v1/events", json=quizzes(3), headers=headers)
    everything = api.client.get("/v1/members/alice/explain", headers=headers).json()
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/v1/members/alice/ledger", params=params, headers=headers).json()
        seen += page["entries"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["id"] for e in seen] == [e["id"] for e in reversed(everything)]
    assert sum(e["points"] for e in everything) == 300


def test_patching_attributes_goes_through_the_log_and_survives_replay(api):
    headers = api.key("events:write", "members:read", "members:write")
    api.client.post("/v1/events", json=video("v1"), headers=headers)
    changed = api.client.patch(
        "/v1/members/alice",
        json={"attributes": {"region": "emea"}, "company": "Initech"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["attributes"] == {"region": "emea"}
    assert changed.json()["company"] == "Initech"
    replay(api.store, "partner")
    again = api.client.get("/v1/members/alice", headers=headers).json()
    assert again["attributes"] == {"region": "emea"} and again["company"] == "Initech"
    assert again["balance"] == 10


def test_a_bad_attribute_change_names_the_field_and_stores_nothing(api):
    headers = api.key("members:write")
    before = row_counts(api.store)
    response = api.client.patch(
        "/v1/members/alice", json={"attributes": {"region": ["a", "list"]}}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"].startswith("attributes.region")
    assert row_counts(api.store) == before


def test_badges_and_tiers_count_their_holders(api):
    headers = api.key("events:write", "members:read")
    api.client.post(
        "/v1/events", json=quizzes(1) + quizzes(1, member="bob", prefix="bq"), headers=headers
    )
    badges = {b["key"]: b["holders"] for b in api.client.get("/v1/badges", headers=headers).json()}
    tiers = {t["key"]: t["members"] for t in api.client.get("/v1/tiers", headers=headers).json()}
    assert badges["certified_user"] == 2
    assert tiers == {"bronze": 2, "silver": 0, "gold": 0, "platinum": 0}


def test_upload_a_draft_then_publish_then_roll_back(api):
    headers = api.key("program:admin", "events:write")
    draft = api.client.post(
        "/v1/program/versions",
        content=demo_with("points: 10", "points: 20"),
        headers={**headers, "Content-Type": "application/yaml"},
    )
    assert draft.status_code == 201, draft.text
    assert draft.json() == {"version": 2, "new": True}
    assert api.client.get("/v1/program", headers=headers).json()["version"]["version"] == 1
    assert api.client.post("/v1/events", json=video("v1"), headers=headers).json()["points"] == 10
    published = api.client.post("/v1/program/versions/2/publish", headers=headers)
    assert published.json() == {"active_version": 2}
    assert (
        api.client.post("/v1/events", json=video("v2", at=_later()), headers=headers).json()[
            "points"
        ]
        == 20
    )
    rolled = api.client.post("/v1/program/rollback", json={}, headers=headers)
    assert rolled.json() == {"active_version": 1}
    versions = api.client.get("/v1/program/versions", headers=headers).json()
    assert [(v["version"], v["active"]) for v in versions] == [(1, True), (2, False)]


def test_validate_lists_every_error_with_its_path_and_stores_nothing(api):
    headers = api.key("program:admin")
    before = row_counts(api.store)
    bad = demo_with("points: 10", "points: -10").replace(
        "timezone: America/New_York", "timezone: Mars/Olympus"
    )
    response = api.client.post("/v1/program/validate", content=bad, headers=headers)
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["error"]["errors"]]
    assert "timezone" in fields and any(f.endswith(".points") for f in fields)
    assert row_counts(api.store) == before
    good = api.client.post("/v1/program/validate", content=DEMO_SOURCE, headers=headers)
    assert good.json()["valid"] is True


def test_a_file_of_another_program_cannot_be_uploaded(api):
    other = DEMO_SOURCE.replace("key: partner", "key: elsewhere", 1)
    response = api.client.post(
        "/v1/program/versions", content=other, headers=api.key("program:admin")
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "key"


def _later():
    from datetime import timedelta

    from tests.integration.builders import MONDAY

    return MONDAY + timedelta(days=1)


def test_patching_a_member_the_program_never_saw_creates_them(api):
    """PATCH is an upsert, as any event is: a CRM may set attributes before the first event."""
    headers = api.key("members:read", "members:write")
    assert api.client.get("/v1/members/newcomer", headers=headers).status_code == 404

    created = api.client.patch(
        "/v1/members/newcomer",
        json={"attributes": {"region": "emea"}, "team": "North"},
        headers=headers,
    )

    assert created.status_code == 200, created.text
    member = api.client.get("/v1/members/newcomer", headers=headers).json()
    assert member["attributes"] == {"region": "emea"} and member["team"] == "North"
    assert (member["balance"], member["lifetime"]) == (0, 0)
    # a token can now be minted for them
    assert api.client.post("/v1/members/newcomer/token", headers=headers).status_code == 200
