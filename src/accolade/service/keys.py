"""API keys and member tokens: who may read or write which program.

A key is ``acc_<key id>_<secret>``: the key id finds the row, the secret is checked against
its SHA-256. A key belongs to one program and carries scopes. A member token is minted with
a key for one member (an embedded, read-only view of that member's own progress); it is
signed with a secret derived from the server secret (``ACCOLADE_SECRET_KEY``) and the key that
minted it, so revoking the key ends its tokens, and nothing in the database can forge one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import URL

from accolade.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from accolade.service import Clock, system_clock
from accolade.service.audit import record
from accolade.service.programs import program_row
from accolade.store.unit_of_work import Store

SCOPES: dict[str, str] = {
    "events:write": "send events, reverse them and read their results",
    "members:read": "read members, ledgers, explanations, badges and tiers; mint member tokens",
    "members:write": "change a member's attributes, team or company",
    "program:admin": "upload, validate, publish and roll back program versions",
    "rewards:write": "redeem rewards for members and cancel their redemptions",
    "rewards:admin": "approve, reject and fulfil redemptions; add codes to code items",
    "referrals:write": "submit referrals and move them through their stages (the CRM)",
    "references:write": "request references, ask advocates and record their answers",
    "webhooks:admin": "manage webhook subscriptions and their deliveries",
    "analytics:read": "read analytics and experiment reports, and the members behind each figure",
}
MEMBER_SCOPE = "member:self"  # what a member token grants: its own member, read-only

_KEY_PREFIX = "acc_"
_TOKEN_PREFIX = "mt_"
MAX_TOKEN_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key of one program, or a member token for one member of it."""

    program_id: int
    program_key: str
    key_id: str
    scopes: frozenset[str]
    member: str | None = None  # set for member tokens: the only member they may read
    expires_at: datetime | None = None  # set for member tokens: refused from then on

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this credential lacks the scope '{scope}'", field="scope")

    def may_read_member(self, member: str) -> None:
        if self.member is not None:
            if member != self.member:
                raise Forbidden("a member token reads its own member only", field="member_id")
            return
        self.require("members:read")


@dataclass(frozen=True)
class CreatedKey:
    key: str  # shown once, never stored
    key_id: str
    program: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


def parse_scopes(text: str) -> tuple[str, ...]:
    """``events:write,members:read`` (commas or spaces) to known scopes, in a stable order."""
    given = [s for s in text.replace(",", " ").split() if s]
    if not given:
        raise InvalidInput(f"give at least one scope ({', '.join(SCOPES)})", field="scope")
    unknown = [s for s in given if s not in SCOPES]
    if unknown:
        raise InvalidInput(
            f"unknown scope '{unknown[0]}' (known: {', '.join(SCOPES)})", field="scope"
        )
    return tuple(s for s in SCOPES if s in given)


def create_key(
    store: Store,
    program_key: str,
    scopes: tuple[str, ...],
    name: str = "",
    clock: Clock = system_clock,
    *,
    actor: str | None = None,
) -> CreatedKey:
    """A new key of ``program_key``; with ``actor`` (who made it: a console user's email),
    recorded in the audit log in the same transaction."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    name = name.strip() or key_id
    if len(name) > 200:
        raise InvalidInput("must be at most 200 characters", field="name")
    with store.transaction() as uow:
        program = program_row(uow, program_key)
        now = clock()
        uow.keys.add_key(program.id, key_id, _digest(secret), name, " ".join(scopes), now)
        if actor is not None:
            after = {"key_id": key_id, "name": name, "scopes": list(scopes)}
            record(uow, actor, "api_key.created", program.id, key_id, None, after, at=now)
    return CreatedKey(f"{_KEY_PREFIX}{key_id}_{secret}", key_id, program_key, scopes)


def list_keys(store: Store, program_key: str) -> list[KeyInfo]:
    with store.transaction() as uow:
        program = program_row(uow, program_key)
        rows = uow.keys.keys(program.id)
    return [
        KeyInfo(r.key_id, r.name, tuple(r.scopes.split()), r.created_at, r.revoked_at) for r in rows
    ]


def revoke_key(
    store: Store,
    key_id: str,
    clock: Clock = system_clock,
    *,
    actor: str | None = None,
    program_key: str | None = None,
) -> None:
    """Revoke a key; with ``actor``, recorded in the audit log in the same transaction; with
    ``program_key``, only a key of that program (NotFound for another's)."""
    key_id = key_id.removeprefix(_KEY_PREFIX).split("_")[0]
    with store.transaction() as uow:
        row = uow.keys.key(key_id)
        if row is None or (program_key is not None and row.program_key != program_key):
            raise NotFound(f"no key '{key_id}'", field="key_id")
        now = clock()
        if not uow.keys.revoke_key(key_id, now):
            raise InvalidInput(f"key '{key_id}' is already revoked", field="key_id")
        if actor is not None:
            before = {"key_id": key_id, "name": row.name, "scopes": row.scopes.split()}
            after = {**before, "revoked_at": now.isoformat()}
            record(uow, actor, "api_key.revoked", row.program_id, key_id, before, after, at=now)


def server_secret(given: str | None, database: URL) -> bytes:
    """The server secret member tokens are signed with (through a key of its own per API key).

    ``given`` is ``ACCOLADE_SECRET_KEY``. Without it, a SQLite database file gets one generated
    once into ``<database file>.secret`` (mode 0600), which every worker on the machine reads;
    an in-memory database gets one for this process. PostgreSQL (production, workers on
    several machines) requires it.
    """
    if given is not None:
        return given.encode()
    if database.get_backend_name() != "sqlite":
        raise InvalidInput(
            "set ACCOLADE_SECRET_KEY (at least 32 characters, the same on every worker; e.g. "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`): member tokens are "
            "signed with it",
            field="ACCOLADE_SECRET_KEY",
        )
    if database.database in (None, "", ":memory:"):
        return secrets.token_hex(32).encode()
    return _secret_file(Path(f"{database.database}.secret"))


def _secret_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # generated before, or by another worker just now
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:  # a worker's read raced the writer, or the file was emptied
        raise InvalidInput(
            f"{path} holds no secret: delete it (member tokens minted so far end) or set "
            "ACCOLADE_SECRET_KEY",
            field="ACCOLADE_SECRET_KEY",
        )
    return text.encode()


def authenticate(
    store: Store, credential: str, clock: Clock = system_clock, *, secret: bytes
) -> Principal:
    """The principal behind an API key or a member token; Unauthenticated otherwise.

    ``secret`` is the server secret (:func:`server_secret`).
    """
    if credential.startswith(_TOKEN_PREFIX):
        return _verify_member_token(store, credential, clock(), secret)
    key_id, _, key_secret = credential.removeprefix(_KEY_PREFIX).partition("_")
    if not credential.startswith(_KEY_PREFIX) or not key_id or not key_secret:
        raise Unauthenticated("not an Accolade API key (acc_...) or member token (mt_...)")
    row = _key_row(store, key_id)
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(key_secret)):
        raise Unauthenticated("unknown API key")
    if row.revoked_at is not None:
        raise Unauthenticated("this API key was revoked")
    return Principal(row.program_id, row.program_key, key_id, frozenset(row.scopes.split()))


def mint_member_token(
    store: Store,
    principal: Principal,
    member: str,
    ttl: timedelta,
    clock: Clock = system_clock,
    *,
    secret: bytes,
) -> tuple[str, datetime]:
    """A token reading ``member``'s own progress until it expires; (token, expires_at).

    ``member`` must be known to the program (NotFound otherwise); ``secret`` is the server
    secret (:func:`server_secret`)."""
    principal.require("members:read")
    if principal.member is not None:
        raise Forbidden("a member token cannot mint tokens", field="authorization")
    if not timedelta(seconds=1) <= ttl <= MAX_TOKEN_TTL:
        raise InvalidInput("must be between 1 and 86400 seconds", field="ttl_seconds")
    with store.read() as uow:
        row = uow.keys.key(principal.key_id)
        known = uow.members.member(principal.program_id, member) is not None
    if row is None:
        raise Unauthenticated("unknown API key")
    if not known:
        raise NotFound(
            f"no member '{member}' in program '{principal.program_key}'", field="member_id"
        )
    expires = clock() + ttl
    claims = {"k": principal.key_id, "m": member, "exp": int(expires.timestamp())}
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signature = _b64(_sign(secret, principal.key_id, payload))
    return f"{_TOKEN_PREFIX}{payload}.{signature}", expires


def _verify_member_token(store: Store, token: str, now: datetime, secret: bytes) -> Principal:
    payload, _, signature = token.removeprefix(_TOKEN_PREFIX).partition(".")
    try:
        claims: dict[str, Any] = json.loads(_unb64(payload))
        key_id, member, expires = str(claims["k"]), str(claims["m"]), int(claims["exp"])
        given = _unb64(signature)
    except (ValueError, KeyError, TypeError):
        raise Unauthenticated("malformed member token") from None
    if not hmac.compare_digest(_sign(secret, key_id, payload), given):
        raise Unauthenticated("member token signature does not match")
    row = _key_row(store, key_id)
    if row is None:  # signed by this server, for a key that is no longer there
        raise Unauthenticated("member token signature does not match")
    if row.revoked_at is not None:
        raise Unauthenticated("the key that minted this member token was revoked")
    if now.timestamp() >= expires:
        raise Unauthenticated("member token expired")
    return Principal(
        row.program_id,
        row.program_key,
        key_id,
        frozenset({MEMBER_SCOPE}),
        member,
        datetime.fromtimestamp(expires, UTC),
    )


def _key_row(store: Store, key_id: str) -> Any:
    with store.read() as uow:
        return uow.keys.key(key_id)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _sign(secret: bytes, key_id: str, payload: str) -> bytes:
    # A signing key per API key, derived from the server secret: a token names the key that
    # minted it, and cannot be passed off as another key's.
    signing_key = hmac.new(secret, b"accolade member token\x00" + key_id.encode(), hashlib.sha256)
    return hmac.new(signing_key.digest(), payload.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
