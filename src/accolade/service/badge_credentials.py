"""Open Badges 3.0: an award as an OpenBadgeCredential (a W3C Verifiable Credential), signed
as a VC-JWT with Ed25519 (alg EdDSA); the public key is published as a JWKS. The private key
is a PEM file (ACCOLADE_BADGE_KEY_FILE) made by `accolade badges keygen`; it is never logged."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accolade.errors import Conflict, NotFound, Unavailable
from accolade.service.openbadges import Award, Issuer, Links, salt_of

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
KEY_SETTING = "ACCOLADE_BADGE_KEY_FILE"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def generate_key(path: Path, *, force: bool = False) -> str:
    """Write a new Ed25519 private key to ``path`` (PEM, PKCS #8, mode 0600) and give its key
    id. Conflict when the file exists and ``force`` is not given: credentials signed with the
    old key stop verifying once it is replaced."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise Conflict(
            f"{path} exists: give --force to replace it (credentials signed with the old key "
            "stop verifying)",
            field="path",
        ) from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.chmod(path, 0o600)
    return key_id(load_key(path))


def load_key(path: Path | None) -> Ed25519PrivateKey:
    """The signing key; Unavailable naming the setting when none is configured or readable."""
    if path is None:
        raise Unavailable(
            f"Open Badges 3.0 credentials need a signing key: set {KEY_SETTING} and run "
            "`accolade badges keygen`",
            field=KEY_SETTING,
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise Unavailable(
            f"{KEY_SETTING}: no key file at {path}: run `accolade badges keygen`",
            field=KEY_SETTING,
        ) from None
    except ValueError:
        raise Unavailable(
            f"{KEY_SETTING}: {path} is not a PEM private key", field=KEY_SETTING
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise Unavailable(f"{KEY_SETTING}: {path} is not an Ed25519 key", field=KEY_SETTING)
    return key


def public_jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    """The public half as a JWK (RFC 8037), its ``kid`` the RFC 7638 thumbprint."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = _b64url(raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": x,
        "kid": _thumbprint(x),
        "alg": "EdDSA",
        "use": "sig",
    }


def _thumbprint(x: str) -> str:
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def key_id(key: Ed25519PrivateKey) -> str:
    return public_jwk(key)["kid"]


def jwks(key: Ed25519PrivateKey) -> dict[str, Any]:
    return {"keys": [public_jwk(key)]}


def credential_document(found: Award, issuer: Issuer, links: Links) -> dict[str, Any]:
    """The award as an OpenBadgeCredential (unsigned). Its subject is named, as in 2.0, by
    the member's hashed email. NotFound for a revoked award (3.0 revocation lists are not
    served: the credential is not issued again) or a member without email."""
    if found.revoked:
        raise NotFound(
            f"badge credential '{found.assertion}' was revoked: {found.revocation_reason}",
            field="assertion",
        )
    if found.email is None:
        raise NotFound(
            f"badge credential '{found.assertion}': the member has no email attribute, which "
            "the credential names its subject by",
            field="email",
        )
    salt = salt_of(found.assertion)
    identity = "sha256$" + hashlib.sha256((found.email.lower() + salt).encode()).hexdigest()
    issued = found.issued_at.isoformat().replace("+00:00", "Z")
    profile: dict[str, Any] = {
        "id": links.issuer(found.program),
        "type": ["Profile"],
        "name": issuer.name,
        "url": issuer.url or links.base,
    }
    if issuer.email:
        profile["email"] = issuer.email
    return {
        "@context": [VC_CONTEXT, OB3_CONTEXT],
        "id": links.credential(found.assertion),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": profile,
        "validFrom": issued,
        "name": found.badge_name,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity,
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": salt,
                }
            ],
            "achievement": {
                "id": links.badge_class(found.program, found.badge),
                "type": ["Achievement"],
                "name": found.badge_name,
                "description": found.description or f"{found.badge_name}: {found.criteria}",
                "criteria": {"narrative": found.criteria},
                "image": {
                    "id": found.image or links.image(found.program, found.badge),
                    "type": "Image",
                },
            },
        },
        "evidence": [
            {
                "id": links.page(found.assertion),
                "type": ["Evidence"],
                "name": f"{found.event_type} {found.event_id}",
            }
        ],
    }


def sign(credential: dict[str, Any], key: Ed25519PrivateKey) -> str:
    """The credential as a compact JWS (VC-JWT, Open Badges 3.0 section 8.2): the credential
    is the payload, with ``iss``, ``jti`` and ``nbf`` from its issuer, id and validFrom."""
    from datetime import datetime

    header = {"alg": "EdDSA", "typ": "JWT", "kid": key_id(key)}
    valid_from = datetime.fromisoformat(str(credential["validFrom"]).replace("Z", "+00:00"))
    payload = {
        **credential,
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "nbf": int(valid_from.timestamp()),
    }
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    )
    return signing_input + "." + _b64url(key.sign(signing_input.encode("ascii")))
