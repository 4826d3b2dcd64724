"""Keys, scopes, member tokens and tenancy: a key never reaches another program's data."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, inspect, text

from accolade.api.app import create_app
from accolade.errors import InvalidInput
from accolade.service.keys import revoke_key
from accolade.settings import Settings
from tests.e2e.builders import api_on
from tests.integration.builders import quiz
from tests.integration.conftest import postgres_url

# Every endpoint that names a member or an event of the program, with a body where it takes one.
MEMBER_AND_EVENT_ENDPOINTS = [
    ("GET", "/v1/members/alice", None),
    ("GET", "/v1/members/alice/ledger", None),
    ("GET", "/v1/members/alice/explain", None),
    ("GET", "/v1/events/q1", None),
    ("POST", "/v1/events/q1/reversal", {"reason": "from another program"}),
]


@pytest.fixture
def api(store):
    with api_on(store) as api:
        api.client.post("/v1/events", json=quiz("q1"), headers=api.key("events:write"))
        yield api


@pytest.mark.parametrize(("method", "path", "body"), MEMBER_AND_EVENT_ENDPOINTS)
def test_another_programs_key_finds_nothing(api, method, path, body):
    other = api.key(program="community")
    response = api.client.request(method, path, json=body, headers=other)
    assert response.status_code == 404, response.text
    mine = api.client.request(method, path, json=body, headers=api.key())
    assert mine.status_code == 200, mine.text


def test_another_programs_key_sees_its_own_program_only(api):
    other = api.key(program="community")
    assert api.client.get("/v1/program", headers=other).json()["key"] == "community"
    tiers = api.client.get("/v1/tiers", headers=other).json()
    assert sum(t["members"] for t in tiers) == 0
    # the same event id in another program is a new event there, not a duplicate
    again = api.client.post("/v1/events", json=quiz("q1"), headers=other)
    assert again.status_code == 201 and again.json()["status"] == "accepted"


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("POST", "/v1/events", "events:write"),
        ("GET", "/v1/members/alice", "members:read"),
        ("PATCH", "/v1/members/alice", "members:write"),
        ("GET", "/v1/program/versions", "program:admin"),
        ("GET", "/v1/badges", "members:read"),
        ("GET", "/v1/quests", "program:admin"),
    ],
)
def test_a_key_without_the_scope_is_403(api, method, path, scope):
    lacking = api.key(
        *[
            s
            for s in ("events:write", "members:read", "members:write", "program:admin")
            if s != scope
        ]
    )
    response = api.client.request(method, path, json={}, headers=lacking)
    assert response.status_code == 403, response.text
    assert scope in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer nonsense", "Bearer acc_000000000000_wrong", "Basic dXNlcjpwYXNz"],
)
def test_no_or_an_unknown_credential_is_401(api, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = api.client.get("/v1/members/alice", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_revoked_key_is_401(store):
    with api_on(store) as api:
        headers = api.key("members:read")
        key_id = headers["Authorization"].split("_")[1]
        revoke_key(api.store, key_id)
        api.client.app.state.context._trusted.clear()  # what 5 seconds would do
        assert api.client.get("/v1/badges", headers=headers).status_code == 401


def test_a_member_token_reads_its_own_member_only(api):
    token = api.client.post(
        "/v1/members/alice/token", json={"ttl_seconds": 60}, headers=api.key("members:read")
    ).json()["token"]
    mine = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/v1/members/alice", headers=mine).json()["balance"] == 100
    assert api.client.get("/v1/members/alice/ledger", headers=mine).status_code == 200
    assert api.client.get("/v1/members/bob", headers=mine).status_code == 403
    assert api.client.get("/v1/badges", headers=mine).status_code == 403
    assert api.client.post("/v1/events", json=quiz("q9"), headers=mine).status_code == 403


def test_a_member_token_expires(api):
    token = api.client.post(
        "/v1/members/alice/token", json={"ttl_seconds": 60}, headers=api.key("members:read")
    ).json()["token"]
    api.clock.now += timedelta(seconds=61)
    response = api.client.get("/v1/members/alice", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_a_tampered_member_token_is_401(api):
    token = api.client.post("/v1/members/alice/token", headers=api.key("members:read")).json()[
        "token"
    ]
    payload, signature = token.split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    response = api.client.get("/v1/members/alice", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_too_many_requests_is_429_with_retry_after(store):
    with api_on(store, rate_limit=3) as api:
        headers = api.key("members:read")
        codes = [api.client.get("/v1/badges", headers=headers).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = api.client.get("/v1/badges", headers=headers)
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"
        # another key has its own budget
        assert api.client.get("/v1/badges", headers=api.key("members:read")).status_code == 200


def test_health_and_readiness(api):
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").json() == {"status": "ready"}


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
def test_a_lost_database_connection_is_503_then_the_pool_is_renewed(store):
    """Pooled connections are not pinged before use: the first request after the server
    dropped them answers 503 (retry), and the next one works on a new connection."""
    with api_on(store) as api:
        headers = api.key("events:write", "members:read")
        api.client.post("/v1/events", json=quiz("e1"), headers=headers)
        store.engine.dispose()  # from here on, every connection is one we record
        pids: list[int] = []

        @event.listens_for(store.engine, "connect")
        def _record(dbapi_connection, _record):
            pids.append(dbapi_connection.execute("SELECT pg_backend_pid()").fetchone()[0])

        assert api.client.get("/v1/members/alice", headers=headers).status_code == 200
        admin = create_engine(postgres_url())
        with admin.begin() as conn:
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()

        lost = api.client.get("/v1/members/alice", headers=headers)
        assert lost.status_code == 503
        assert lost.headers["Retry-After"] == "1"
        assert lost.json()["error"]["code"] == "unavailable"
        assert api.client.get("/v1/members/alice", headers=headers).json()["balance"] == 100


def test_unknown_keys_from_one_address_are_429_before_any_lookup(store):
    with api_on(store, failed_auth_per_minute=3) as api:
        good = api.key("members:read")
        assert api.client.get("/v1/badges", headers=good).status_code == 200  # trusted now
        bad = {"Authorization": "Bearer acc_000000000000_wrong"}
        codes = [api.client.get("/v1/badges", headers=bad).status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        statements: list[str] = []
        event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

        limited = api.client.get("/v1/badges", headers=bad)

        assert limited.status_code == 429, limited.text
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"
        assert statements == []  # refused before the key was looked up
        # a garbled member token counts the same; a key checked before still works from there
        garbled = {"Authorization": "Bearer mt_e30.AAAA"}
        assert api.client.get("/v1/badges", headers=garbled).status_code == 429
        assert api.client.get("/v1/badges", headers=good).status_code == 200
        # another client address has its own budget
        elsewhere = TestClient(api.client.app, client=("203.0.113.9", 50000))
        assert elsewhere.get("/v1/badges", headers=bad).status_code == 401


def test_a_member_token_expires_at_once_though_it_was_checked_just_before(api):
    token = api.client.post(
        "/v1/members/alice/token", json={"ttl_seconds": 60}, headers=api.key("members:read")
    ).json()["token"]
    mine = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/v1/members/alice", headers=mine).status_code == 200  # trusted now

    api.clock.now += timedelta(seconds=60)
    response = api.client.get("/v1/members/alice", headers=mine)

    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_a_token_for_a_member_the_program_never_saw_is_404(api):
    response = api.client.post("/v1/members/nobody/token", headers=api.key("members:read"))
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["field"] == "member_id"
    # alice is a member of 'partner' only
    other = api.key("members:read", program="community")
    assert api.client.post("/v1/members/alice/token", headers=other).status_code == 404


def test_api_keys_keep_no_secret_that_signs_member_tokens(store):
    with api_on(store):
        columns = {c["name"] for c in inspect(store.engine).get_columns("api_keys")}
    assert columns == {
        "id",
        "program_id",
        "key_id",
        "secret_hash",
        "name",
        "scopes",
        "created_at",
        "revoked_at",
    }


def test_member_tokens_hold_while_the_secret_key_does_and_end_when_it_is_rotated(store):
    with api_on(store, secret_key="a" * 32) as api:
        headers = api.key("events:write", "members:read")
        api.client.post("/v1/events", json=quiz("q1"), headers=headers)
        token = api.client.post("/v1/members/alice/token", headers=headers).json()["token"]
    mine = {"Authorization": f"Bearer {token}"}
    with api_on(store, secret_key="a" * 32) as same:  # another worker with the same secret
        assert same.client.get("/v1/members/alice", headers=mine).status_code == 200
    with api_on(store, secret_key="b" * 32) as rotated:
        response = rotated.client.get("/v1/members/alice", headers=mine)
        assert response.status_code == 401
        assert "signature" in response.json()["error"]["message"]
        # API keys do not depend on the secret
        assert rotated.client.get("/v1/badges", headers=headers).status_code == 200


def test_without_a_secret_key_sqlite_generates_one_beside_the_file_postgresql_needs_one(store):
    if store.dialect == "postgresql":
        with pytest.raises(InvalidInput) as refused:
            create_app(Settings(), store)
        assert refused.value.field == "ACCOLADE_SECRET_KEY"
        return
    with api_on(store) as api:
        headers = api.key("events:write", "members:read")
        api.client.post("/v1/events", json=quiz("q1"), headers=headers)
        token = api.client.post("/v1/members/alice/token", headers=headers).json()["token"]
    secret_file = Path(f"{store.engine.url.database}.secret")
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(secret_file.read_text().strip()) == 64
    with api_on(store) as again:  # a restart, or another worker: the same secret
        mine = {"Authorization": f"Bearer {token}"}
        assert again.client.get("/v1/members/alice", headers=mine).status_code == 200
