"""The portal's sign-in: a member token (``mt_...``) from a host app's link, exchanged once for
a signed session cookie; and the CSRF token every form carries.

The cookie holds who is signed in (the key that minted the link's token, the member, when the
session ends and a random nonce), signed with the server secret under its own label, so it can
be passed off neither as a member token nor as another member's session. Nothing is stored:
revoking the key that minted the link ends its sessions (within web.py's trust window of a few
seconds, as the key's own requests).
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
from accolade.service.keys import authenticate
from accolade.store.unit_of_work import Store
from accolade.web.signing import b64 as _b64
from accolade.web.signing import mac as _mac
from accolade.web.signing import unb64 as _unb64

COOKIE = "accolade_portal"
_PREFIX = "ps_"
_SESSION_LABEL = b"accolade portal session\x00"
_CSRF_LABEL = b"accolade portal csrf\x00"


@dataclass(frozen=True)
class PortalSession:
    """A signed-in member: whose page every portal request reads and writes."""

    program_id: int
    program_key: str
    key_id: str
    member: str
    expires_at: datetime
    nonce: str  # the session's own secret: its CSRF token is derived from it


def sign_in(
    store: Store, token: str, ttl: timedelta, clock: Clock, *, secret: bytes
) -> tuple[str, PortalSession]:
    """(cookie value, session) for a member token; Unauthenticated for anything else (an API
    key, an expired or forged token, one whose key was revoked)."""
    if not token.startswith("mt_"):
        raise Unauthenticated("this link carries no member token", field="token")
    principal = authenticate(store, token, clock, secret=secret)
    assert principal.member is not None  # a member token always names its member
    expires = clock() + ttl
    session = PortalSession(
        principal.program_id,
        principal.program_key,
        principal.key_id,
        principal.member,
        datetime.fromtimestamp(int(expires.timestamp()), UTC),
        secrets.token_urlsafe(16),
    )
    claims = {
        "k": session.key_id,
        "m": session.member,
        "exp": int(expires.timestamp()),
        "n": session.nonce,
    }
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{_PREFIX}{payload}.{_b64(_mac(secret, _SESSION_LABEL, payload))}", session


def read_session(store: Store, cookie: str, clock: Clock, *, secret: bytes) -> PortalSession:
    """The session a cookie holds; Unauthenticated when it is forged, over, or its key revoked."""
    payload, _, signature = cookie.removeprefix(_PREFIX).partition(".")
    try:
        given = _unb64(signature)
        claims: dict[str, Any] = json.loads(_unb64(payload))
        key_id, member = str(claims["k"]), str(claims["m"])
        expires, nonce = int(claims["exp"]), str(claims["n"])
    except (ValueError, KeyError, TypeError):
        raise Unauthenticated("this portal session is not valid", field="session") from None
    if not cookie.startswith(_PREFIX) or not hmac.compare_digest(
        _mac(secret, _SESSION_LABEL, payload), given
    ):
        raise Unauthenticated("this portal session is not valid", field="session")
    if clock().timestamp() >= expires:
        raise Unauthenticated("this portal session has ended", field="session")
    with store.read() as uow:
        row = uow.keys.key(key_id)
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("the link this session came from was withdrawn", field="session")
    return PortalSession(
        row.program_id,
        row.program_key,
        key_id,
        member,
        datetime.fromtimestamp(expires, UTC),
        nonce,
    )


def csrf_token(session: PortalSession, *, secret: bytes) -> str:
    """What every form of this session carries: derived from its nonce, so a page of another
    session (or another site) cannot know it."""
    return _b64(_mac(secret, _CSRF_LABEL, session.nonce))


def check_csrf(session: PortalSession, given: str | None, *, secret: bytes) -> None:
    if not given or not hmac.compare_digest(given, csrf_token(session, secret=secret)):
        raise CsrfRefused()


class CsrfRefused(Unauthenticated):
    """A form without this session's CSRF token: posted from elsewhere, or from a page of an
    earlier session."""

    code = "csrf"

    def __init__(self) -> None:
        super().__init__(
            "this form is out of date or came from another site: reload the page and try again",
            field="csrf",
        )
