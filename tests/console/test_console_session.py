"""Signing in to the console: email and password for a session cookie, and everything that
must not get in: a wrong password (saying nothing of whether the email exists), a locked or
disabled account, a forged or ended cookie, a form without its CSRF token."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accolade.service.console_users import SIGN_IN_REFUSED, set_disabled
from accolade.web.console.session import COOKIE
from tests.console.builders import PASSWORD, console_on, csrf_of, post


@pytest.fixture
def console(store):
    with console_on(store) as console:
        yield console


def test_right_password_signs_in_and_opens_the_home_page(console):
    console.user("ana@example.com", "admin")
    client = console.client()

    signed = console.sign_in(client, "Ana@Example.com", PASSWORD)

    assert signed.status_code == 303, signed.text
    assert signed.headers["location"] == "/console/"
    home = client.get("/console/")
    assert home.status_code == 200
    assert "ana@example.com" in home.text
    assert "community" in home.text and "partner" in home.text


def test_session_cookie_is_http_only_strict_and_scoped_to_the_console(console):
    console.user("ana@example.com", "viewer")

    signed = console.sign_in(console.client(), "ana@example.com")

    cookie = next(
        c for c in signed.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")
    ).lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/console" in cookie
    assert "max-age=28800" in cookie
    assert "secure" not in cookie  # plain http here; over https it is Secure


def test_cookie_is_secure_over_https(console):
    console.user("ana@example.com", "viewer")
    client = console.client()
    client.base_url = client.base_url.copy_with(scheme="https")

    signed = console.sign_in(client, "ana@example.com")

    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}="))
    assert "secure" in cookie.lower()


@pytest.mark.parametrize("email", ["ana@example.com", "nobody@example.com"])
def test_wrong_password_is_refused_with_the_same_words_whether_or_not_the_email_exists(
    console, email
):
    console.user("ana@example.com", "admin")
    client = console.client()

    refused = console.sign_in(client, email, "not the password at all")

    assert refused.status_code == 401
    assert SIGN_IN_REFUSED in refused.text
    assert COOKIE not in client.cookies
    assert client.get("/console/").status_code == 401


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(console):
    console.user("ana@example.com", "admin")
    client = console.client()
    for _ in range(5):
        assert console.sign_in(client, "ana@example.com", "wrong password!!").status_code == 401

    locked = console.sign_in(client, "ana@example.com", PASSWORD)

    assert locked.status_code == 401
    console.api.clock.now += timedelta(minutes=16)
    assert console.sign_in(client, "ana@example.com", PASSWORD).status_code == 303


def test_sign_in_form_without_its_csrf_token_is_refused(console):
    console.user("ana@example.com", "admin")
    client = console.client()
    client.get("/console/signin")

    refused = client.post(
        "/console/signin",
        data={"email": "ana@example.com", "password": PASSWORD, "csrf": "forged"},
        follow_redirects=False,
    )

    assert refused.status_code == 403
    assert COOKIE not in client.cookies


def test_a_post_without_the_session_csrf_token_is_refused(console):
    client = console.browser("admin")

    refused = client.post(
        "/console/access/users",
        data={"email": "bo@example.com", "role": "viewer", "password": PASSWORD},
    )

    assert refused.status_code == 401
    assert "came from another site" in refused.text
    assert "bo@example.com" not in client.get("/console/access").text


def test_without_a_session_a_page_asks_to_sign_in(console):
    answer = console.client().get("/console/audit")

    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("text/html")
    assert 'href="/console/signin"' in answer.text


def test_a_forged_cookie_is_refused(console):
    client = console.client()
    client.cookies.set(COOKIE, "cs_eyJlIjoiYW5hQGV4YW1wbGUuY29tIn0.AAAA", path="/console")

    assert client.get("/console/").status_code == 401


def test_the_session_ends_after_its_lifetime(console):
    client = console.browser("viewer")
    console.api.clock.now += timedelta(hours=8, seconds=1)
    console.api.client.app.state.context.console_sessions.clear()  # past the trust window

    ended = client.get("/console/")

    assert ended.status_code == 401
    assert "has ended" in ended.text


def test_disabling_a_user_ends_their_sessions(console):
    client = console.browser("operator", "op@example.com")
    set_disabled(console.api.store, "op@example.com", True, actor="cli")
    console.api.client.app.state.context.console_sessions.clear()  # past the trust window

    assert client.get("/console/").status_code == 401
    assert console.sign_in(console.client(), "op@example.com").status_code == 401


def test_sign_out_ends_the_session(console):
    client = console.browser("viewer")

    out = post(client, "/console/signout", {})

    assert out.status_code == 303
    assert out.headers["location"] == "/console/signin"
    assert client.get("/console/").status_code == 401


def test_pages_carry_the_security_headers(console):
    client = console.browser("viewer")

    for path in ("/console/", "/console/signin", "/console/audit", "/console/access"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"


def test_an_unknown_console_page_is_a_console_page(console):
    client = console.browser("viewer")

    missing = client.get("/console/no-such-page")

    assert missing.status_code == 404
    assert "Accolade console" in missing.text


def test_switching_program_shows_the_other_one(console):
    client = console.browser("admin")

    client.get("/console/switch", params={"program": "partner", "back": "/console/access"})

    assert "API keys of partner" in client.get("/console/access").text
    client.get("/console/switch", params={"program": "community", "back": "https://evil.test/"})
    assert "API keys of community" in client.get("/console/access").text
    assert csrf_of(client.get("/console/").text)
