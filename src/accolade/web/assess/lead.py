"""Who is answering a hosted assessment: a lead id made at their first visit, kept in a
signed cookie and in the resume link (``?lead=``), and the CSRF token their forms carry.

The token holds only the lead's id, signed with the server secret under its own label (it can
pass neither for a portal or console session nor for a member token). Whoever holds it is the
lead: the resume link is theirs to keep, as the page says. Nothing is stored until the lead
starts: their answers are events like any other."""

from __future__ import annotations

import hmac
import json
import secrets

from accolade.errors import Unauthenticated
from accolade.web.signing import b64, mac, unb64

COOKIE = "accolade_assess"
COOKIE_SECONDS = 180 * 86400  # a lead may come back to finish for half a year
_PREFIX = "lt_"
_LEAD_LABEL = b"accolade assessment lead\x00"
_CSRF_LABEL = b"accolade assessment csrf\x00"


def new_lead() -> str:
    """A fresh lead id, random: it names no one until the lead says who they are."""
    return f"lead_{secrets.token_urlsafe(12)}"


def lead_token(lead: str, *, secret: bytes) -> str:
    """The cookie's value, and the resume link's ``lead`` parameter."""
    payload = b64(json.dumps({"l": lead}, separators=(",", ":")).encode())
    return f"{_PREFIX}{payload}.{b64(mac(secret, _LEAD_LABEL, payload))}"


def read_lead(token: str, *, secret: bytes) -> str:
    """The lead a token names; Unauthenticated when it is not one of ours."""
    payload, _, signature = token.removeprefix(_PREFIX).partition(".")
    try:
        given = unb64(signature)
        lead = str(json.loads(unb64(payload))["l"])
    except (ValueError, KeyError, TypeError):
        raise Unauthenticated("this assessment link is not valid", field="lead") from None
    if not token.startswith(_PREFIX) or not hmac.compare_digest(
        mac(secret, _LEAD_LABEL, payload), given
    ):
        raise Unauthenticated("this assessment link is not valid", field="lead")
    return lead


def csrf_token(lead: str, *, secret: bytes) -> str:
    """What the lead's forms carry: another site knows neither the lead nor the secret."""
    return b64(mac(secret, _CSRF_LABEL, lead))


def check_csrf(lead: str | None, given: str | None, *, secret: bytes) -> None:
    if not lead or not given or not hmac.compare_digest(given, csrf_token(lead, secret=secret)):
        raise CsrfRefused()


class CsrfRefused(Unauthenticated):
    """A form without the lead's CSRF token: posted from another site, or without the
    cookie the page set (a browser refusing cookies)."""

    code = "csrf"

    def __init__(self) -> None:
        super().__init__(
            "this form is out of date or came from another site: reload the page and try again",
            field="csrf",
        )
