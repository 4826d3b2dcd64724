"""The console's sign-in: an email and password (service/console_users.py checks them, and
locks an account after repeated failures), exchanged for a signed session cookie; and the
CSRF token every form carries.

The cookie holds who is signed in (the user's email), when the session ends and a random
nonce, signed with the server secret under its own label, so it can pass neither for a portal
session nor for a member token. Nothing is stored: each request reads the user again (within
web.py's trust window of a few seconds), so disabling a user ends their sessions.

The sign-in form has a CSRF token too (a login CSRF would sign a person in as someone else):
derived from a nonce in a short-lived cookie of its own, set with the form.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from accolade.errors import Unauthenticated
from accolade.service import Clock
from accolade.service.console_users import authenticate
from accolade.store.unit_of_work import Store
from accolade.web.signing import b64, mac, unb64

COOKIE = "accolade_console"
SIGN_IN_COOKIE = "accolade_console_signin"  # the sign-in form's nonce
SIGN_IN_FORM_SECONDS = 3600
_PREFIX = "cs_"
_SESSION_LABEL = b"accolade console session\x00"
_CSRF_LABEL = b"accolade console csrf\x00"
_SIGN_IN_LABEL = b"accolade console sign-in csrf\x00"


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in console user: who, until when, and the nonce their CSRF token comes from."""

    email: str
    expires_at: datetime
    nonce: str


def sign_in(
    store: Store, email: str, password: str, ttl: timedelta, clock: Clock, *, secret: bytes
) -> tuple[str, ConsoleSession]:
    """(cookie value, session) for a right email and password; Unauthenticated otherwise,
    saying nothing of whether the email exists."""
    user = authenticate(store, email, password, clock)
    expires = int((clock() + ttl).timestamp())
    session = ConsoleSession(
        user.email, datetime.fromtimestamp(expires, UTC), secrets.token_urlsafe(16)
    )
    claims = {"e": session.email, "exp": expires, "n": session.nonce}
    payload = b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{_PREFIX}{payload}.{b64(mac(secret, _SESSION_LABEL, payload))}", session


def read_session(cookie: str, clock: Clock, *, secret: bytes) -> ConsoleSession:
    """The session a cookie holds; Unauthenticated when it is forged or over. Whether its user
    is still enabled is the caller's to check (web.py)."""
    payload, _, signature = cookie.removeprefix(_PREFIX).partition(".")
    try:
        given = unb64(signature)
        claims: dict[str, Any] = json.loads(unb64(payload))
        email, expires, nonce = str(claims["e"]), int(claims["exp"]), str(claims["n"])
    except (ValueError, KeyError, TypeError):
        raise Unauthenticated("this console session is not valid", field="session") from None
    if not cookie.startswith(_PREFIX) or not hmac.compare_digest(
        mac(secret, _SESSION_LABEL, payload), given
    ):
        raise Unauthenticated("this console session is not valid", field="session")
    if clock().timestamp() >= expires:
        raise Unauthenticated("this console session has ended: sign in again", field="session")
    return ConsoleSession(email, datetime.fromtimestamp(expires, UTC), nonce)


def csrf_token(session: ConsoleSession, *, secret: bytes) -> str:
    """What every form of this session carries: derived from its nonce, so a page of another
    session (or another site) cannot know it."""
    return b64(mac(secret, _CSRF_LABEL, session.nonce))


def check_csrf(session: ConsoleSession, given: str | None, *, secret: bytes) -> None:
    if not given or not hmac.compare_digest(given, csrf_token(session, secret=secret)):
        raise CsrfRefused()


def sign_in_nonce() -> str:
    """A fresh nonce for the sign-in form's cookie."""
    return secrets.token_urlsafe(16)


def sign_in_csrf(nonce: str, *, secret: bytes) -> str:
    """The sign-in form's CSRF token, derived from the nonce in its cookie."""
    return b64(mac(secret, _SIGN_IN_LABEL, nonce))


def check_sign_in_csrf(nonce: str | None, given: str | None, *, secret: bytes) -> None:
    if not nonce or not given or not hmac.compare_digest(given, sign_in_csrf(nonce, secret=secret)):
        raise CsrfRefused()


class CsrfRefused(Unauthenticated):
    """A form without its CSRF token: posted from elsewhere, or from a page of an earlier
    session."""

    code = "csrf"

    def __init__(self) -> None:
        super().__init__(
            "this form is out of date or came from another site: reload the page and try again",
            field="csrf",
        )
