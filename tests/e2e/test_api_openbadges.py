"""Open Badges over HTTP on both backends: what a member without email, an unknown id, a
replay and a missing signing key answer; the documents' ids follow ACCOLADE_PUBLIC_URL."""

from __future__ import annotations

import pytest

from accolade.service.replay import replay
from tests.e2e.builders import api_on
from tests.integration.builders import quiz

PUBLIC = "https://badges.example.com"


@pytest.fixture
def api(store):
    with api_on(store, public_url=PUBLIC, badge_issuer_email="team@example.com") as api:
        yield api


def badges_of(api, member: str, headers) -> list[dict]:
    listed = api.client.get(f"/v1/members/{member}/badges", headers=headers)
    assert listed.status_code == 200, listed.text
    return list(listed.json())


def with_email(event: dict, email: str) -> dict:
    return {**event, "attributes": {"email": email}}


def test_ids_are_absolute_on_the_public_url_and_answer_where_they_point(api):
    headers = api.key("events:write", "members:read")
    api.client.post("/v1/events", json=with_email(quiz("q1"), "alice@example.com"), headers=headers)
    badge = badges_of(api, "alice", headers)[0]
    assert badge["assertion_url"] == f"{PUBLIC}/ob/assertions/{badge['assertion_id']}"
    assertion = api.client.get(badge["assertion_url"].removeprefix(PUBLIC)).json()
    assert assertion["id"] == badge["assertion_url"]
    assert assertion["badge"] == f"{PUBLIC}/ob/badges/partner/certified_user"
    issuer = api.client.get("/ob/issuers/partner").json()
    assert issuer["id"] == f"{PUBLIC}/ob/issuers/partner" and issuer["url"] == PUBLIC
    assert issuer["email"] == "team@example.com"


def test_a_member_without_email_has_a_badge_page_but_no_assertion_naming_why(api):
    headers = api.key("events:write", "members:read")
    api.client.post("/v1/events", json=quiz("q1"), headers=headers)
    badge = badges_of(api, "alice", headers)[0]
    answer = api.client.get(badge["assertion_url"].removeprefix(PUBLIC))
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["field"] == "email" and "email attribute" in error["message"]
    assert api.client.get(badge["page_url"].removeprefix(PUBLIC)).status_code == 200


def test_an_id_never_listed_is_404_and_unknown_badges_name_the_badge(api):
    assert api.client.get("/ob/assertions/0123456789abcdef0123").status_code == 404
    missing = api.client.get("/ob/badges/partner/no_such_badge")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "badge"


def test_a_replay_keeps_the_assertion_as_it_was(api):
    headers = api.key("events:write", "members:read")
    api.client.post("/v1/events", json=with_email(quiz("q1"), "alice@example.com"), headers=headers)
    badge = badges_of(api, "alice", headers)[0]
    before = api.client.get(badge["assertion_url"].removeprefix(PUBLIC)).json()
    replay(api.store, "partner")
    after = api.client.get(badge["assertion_url"].removeprefix(PUBLIC)).json()
    assert after == before


def test_without_a_signing_key_credentials_answer_503_naming_the_setting(api):
    headers = api.key("events:write", "members:read")
    api.client.post("/v1/events", json=with_email(quiz("q1"), "alice@example.com"), headers=headers)
    badge = badges_of(api, "alice", headers)[0]
    answer = api.client.get(badge["credential_url"].removeprefix(PUBLIC))
    assert answer.status_code == 503
    assert answer.json()["error"]["field"] == "ACCOLADE_BADGE_KEY_FILE"
    assert api.client.get("/ob/.well-known/jwks.json").status_code == 503


def test_listing_a_members_badges_needs_a_key(api):
    headers = api.key("events:write", "members:read")
    api.client.post("/v1/events", json=quiz("q1"), headers=headers)
    assert badges_of(api, "alice", headers)
    assert api.client.get("/v1/members/alice/badges").status_code == 401
