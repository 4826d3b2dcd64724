"""Signing in to the portal: a host app's link exchanged for a session cookie, and everything
that must not get in: another member, an expired or forged link, an API key as a link, a
revoked key's sessions, a form without its CSRF token. And the headers every page carries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from accolade.service.keys import revoke_key
from accolade.web.portal.session import COOKIE
from tests.integration.builders import row_counts
from tests.portal.builders import csrf_of, portal_on


@pytest.fixture
def portal(store):
    with portal_on(store) as portal:
        portal.send(
            {
                "id": "q1",
                "type": "quiz.passed",
                "member": "alice",
                "occurred_at": "2026-05-01T14:00:00Z",
                "properties": {"quiz": "q1"},
            },
            {"id": "b1", "type": "profile.completed", "member": "bob",
             "occurred_at": "2026-05-01T14:00:00Z"},
        )  # fmt: skip
        yield portal


def test_a_link_signs_the_member_in_and_leaves_the_address_bar(portal):
    client = TestClient(portal.api.client.app)
    link = portal.link("alice")
    entered = client.get(link, follow_redirects=False)
    assert entered.status_code == 303
    assert entered.headers["location"] == "/portal/"
    cookie = entered.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=ps_")
    assert "HttpOnly" in cookie and "Path=/portal" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback; over TLS it is Secure
    home = client.get("/portal/")
    assert home.status_code == 200
    assert 'id="balance">100<' in home.text
    token = link.split("token=")[1]
    assert token not in home.text and token not in cookie


def test_the_cookie_is_secure_over_tls(portal):
    # TestClient speaks to the app directly: its base URL decides the scheme the app sees
    client = TestClient(portal.api.client.app, base_url="https://portal.example.com")
    entered = client.get(portal.link("alice"), follow_redirects=False)
    assert "Secure" in entered.headers["set-cookie"]


def test_a_member_sees_only_themself(portal):
    alice = portal.browser("alice")
    bob = portal.browser("bob")
    assert "· alice" in alice.get("/portal/").text
    assert "· bob" in bob.get("/portal/").text
    # the only member a session reads is its own: no page takes a member from the request
    assert alice.get("/portal/?member=bob").text.count("· bob") == 0


def test_without_a_session_a_page_asks_to_sign_in_again(portal):
    client = TestClient(portal.api.client.app)
    page = client.get("/portal/")
    assert page.status_code == 401
    assert page.headers["content-type"].startswith("text/html")
    assert "You are not signed in" in page.text


@pytest.mark.parametrize(
    "token",
    ["", "acc_abc_def", "mt_e30.AAAA", "mt_not-a-token"],
    ids=["empty", "api-key", "forged", "garbage"],
)
def test_a_bad_link_is_refused_with_a_page(portal, token):
    client = TestClient(portal.api.client.app)
    refused = client.get(f"/portal/enter?token={token}", follow_redirects=False)
    assert refused.status_code in (401, 422)
    assert refused.headers["content-type"].startswith("text/html")
    assert COOKIE not in refused.headers.get("set-cookie", "")


def test_an_api_key_is_not_a_link(portal):
    key = portal.writer["Authorization"].removeprefix("Bearer ")
    refused = TestClient(portal.api.client.app).get(f"/portal/enter?token={key}")
    assert refused.status_code == 401
    assert "this link carries no member token" in refused.text
    assert key not in refused.text


def test_a_link_cannot_be_replayed_after_it_expires(portal):
    link = portal.link("alice", ttl_seconds=60)
    assert TestClient(portal.api.client.app).get(link).status_code == 200
    portal.api.clock.now += timedelta(seconds=61)
    again = TestClient(portal.api.client.app).get(link, follow_redirects=False)
    assert again.status_code == 401
    assert "member token expired" in again.text


def test_the_session_ends_after_its_time(portal):
    alice = portal.browser("alice")
    portal.api.clock.now += timedelta(
        seconds=portal.api.client.app.state.context.settings.portal_session_seconds
    )
    ended = alice.get("/portal/")
    assert ended.status_code == 401
    assert "this portal session has ended" in ended.text
    assert f'{COOKIE}=""' in ended.headers["set-cookie"]  # the stale cookie is cleared


def test_revoking_the_key_that_minted_the_link_ends_its_sessions(portal):
    alice = portal.browser("alice")
    key_id = portal.writer["Authorization"].split("_")[1]
    revoke_key(portal.api.store, key_id)
    assert alice.get("/portal/").status_code == 401


def test_revoking_the_key_ends_its_open_sessions_within_the_trust_window(portal):
    alice = portal.browser("alice")
    assert alice.get("/portal/").status_code == 200  # checked, and trusted for a few seconds
    key_id = portal.writer["Authorization"].split("_")[1]
    revoke_key(portal.api.store, key_id)
    portal.api.client.app.state.context.portal_sessions.clear()  # what 5 seconds would do
    assert alice.get("/portal/").status_code == 401


def test_a_tampered_cookie_is_refused(portal):
    alice = portal.browser("alice")
    cookie = alice.cookies[COOKIE]
    payload, signature = cookie.split(".")
    other = TestClient(portal.api.client.app)
    other.cookies.set(COOKIE, payload + "." + signature[:-2] + "AA", path="/portal")
    assert other.get("/portal/").status_code == 401


def test_a_form_without_its_session_csrf_token_is_refused_and_changes_nothing(portal):
    alice = portal.browser("alice")
    bob = portal.browser("bob")
    before = row_counts(portal.api.store)
    assert alice.post("/portal/signout", data={}).status_code == 401
    bobs_token = csrf_of(bob.get("/portal/").text)
    refused = alice.post("/portal/signout", data={"csrf": bobs_token})
    assert refused.status_code == 401
    assert "reload the page" in refused.text
    assert alice.get("/portal/").status_code == 200  # still signed in
    assert row_counts(portal.api.store) == before


def test_signing_out_clears_the_cookie(portal):
    alice = portal.browser("alice")
    token = csrf_of(alice.get("/portal/").text)
    out = alice.post("/portal/signout", data={"csrf": token}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/portal/signed-out"
    assert alice.get("/portal/").status_code == 401


def test_every_page_is_private_uncached_and_unframed(portal):
    alice = portal.browser("alice")
    for path in ("/portal/", "/portal/signed-out", "/portal/nowhere"):
        page = alice.get(path)
        assert page.headers["cache-control"] == "no-store", path
        assert page.headers["referrer-policy"] == "no-referrer", path
        assert page.headers["x-frame-options"] == "DENY", path
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, path


def test_a_host_app_named_in_the_settings_may_frame_the_portal(store):
    from tests.e2e.builders import api_on
    from tests.portal.builders import Portal

    with api_on(store, portal_frame_ancestors="https://app.example.com") as api:
        portal = Portal(api, api.key())
        client = TestClient(api.client.app)
        portal.send({"id": "v", "type": "profile.completed", "member": "cara",
                     "occurred_at": "2026-05-01T14:00:00Z"})  # fmt: skip
        entered = client.get(portal.link("cara"), follow_redirects=False)
        cookie = entered.headers["set-cookie"]
        assert "SameSite=none" in cookie and "Secure" in cookie
        policy = entered.headers["content-security-policy"]
        assert "frame-ancestors https://app.example.com" in policy
        assert "x-frame-options" not in entered.headers


def test_the_stylesheet_is_served_by_accolade_itself(portal):
    css = portal.api.client.get("/portal/static/portal.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    home = portal.browser("alice").get("/portal/").text
    assert "http://" not in home and "https://" not in home  # nothing from elsewhere
