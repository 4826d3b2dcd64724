"""The pure parts of Open Badges: the recipient hash, baking an SVG, the generated image, and
a VC-JWT that PyJWT verifies with the JWK published for its key."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from xml.etree import ElementTree

import jwt
import pytest

from accolade.errors import Conflict, Unavailable
from accolade.service.badge_credentials import (
    credential_document,
    generate_key,
    jwks,
    load_key,
    sign,
)
from accolade.service.badge_images import badge_svg, baked_svg
from accolade.service.openbadges import Award, Issuer, Links, hashed_email, salt_of

LINKS = Links("https://a.example.com")


def award(**changes: object) -> Award:
    values: dict[str, object] = {
        "assertion": "0123456789abcdef0123",
        "program": "partner",
        "program_name": "Acme Partner Program",
        "member": "alice",
        "email": "Alice@Example.com",
        "holder": None,
        "private": False,
        "badge": "certified_user",
        "badge_name": "Certified User",
        "description": None,
        "criteria": "Pass a product certification quiz",
        "image": None,
        "period": "",
        "issued_at": datetime(2026, 5, 4, 9, 30, tzinfo=UTC),
        "event_id": "q-1",
        "event_type": "quiz.passed",
        "revoked_at": None,
        "revocation_reason": None,
    }
    values.update(changes)
    return Award(**values)  # type: ignore[arg-type]


def test_the_recipient_hash_is_sha256_of_the_lowercased_email_and_salt():
    salt = salt_of("abc")
    assert salt == salt_of("abc") != salt_of("abd")
    expected = hashlib.sha256(("alice@example.com" + salt).encode()).hexdigest()
    assert hashed_email("Alice@Example.com", salt) == "sha256$" + expected


def test_a_baked_svg_carries_the_assertion_as_the_roots_first_child():
    assertion = {"id": "https://a.example.com/ob/assertions/x", "note": "]]> & <tag>"}
    baked = baked_svg(badge_svg("Certified & User", "certified_user"), assertion)
    root = ElementTree.fromstring(baked)
    first = root[0]
    assert first.tag == "{http://openbadges.org}assertion"
    assert first.get("verify") == assertion["id"]
    assert json.loads(first.text or "") == assertion


def test_the_generated_image_is_svg_naming_the_badge():
    svg = badge_svg("A Very Long Badge Name Indeed For Sure", "k")
    root = ElementTree.fromstring(svg)
    assert root.get("aria-label") == "A Very Long Badge Name Indeed For Sure"
    assert len(re.findall(r"<text", svg)) <= 3


def test_a_signed_credential_verifies_with_the_published_jwk(tmp_path):
    key_file = tmp_path / "k.pem"
    kid = generate_key(key_file)
    key = load_key(key_file)
    issuer = Issuer("partner", "Acme Partner Program", None, "team@example.com")
    token = sign(credential_document(award(), issuer, LINKS), key)
    published = jwks(key)["keys"][0]
    assert published["kid"] == kid == jwt.get_unverified_header(token)["kid"]
    public = jwt.PyJWK(published).key
    claims = jwt.decode(token, public, algorithms=["EdDSA"])
    assert claims["iss"] == claims["issuer"]["id"] == "https://a.example.com/ob/issuers/partner"
    assert claims["jti"] == claims["id"]
    assert claims["nbf"] == int(datetime(2026, 5, 4, 9, 30, tzinfo=UTC).timestamp())
    assert "PRIVATE" not in json.dumps(jwks(key))


def test_a_revoked_award_or_one_without_email_gets_no_credential():
    issuer = Issuer("partner", "Acme", None, None)
    with pytest.raises(Exception, match="revoked: quiz retaken"):
        credential_document(
            award(revoked_at=datetime.now(UTC), revocation_reason="quiz retaken"), issuer, LINKS
        )
    with pytest.raises(Exception, match="email attribute"):
        credential_document(award(email=None), issuer, LINKS)


def test_keys_are_not_replaced_without_force_and_a_missing_one_names_the_setting(tmp_path):
    key_file = tmp_path / "k.pem"
    generate_key(key_file)
    with pytest.raises(Conflict):
        generate_key(key_file)
    with pytest.raises(Unavailable, match="ACCOLADE_BADGE_KEY_FILE"):
        load_key(None)
    with pytest.raises(Unavailable, match="no key file"):
        load_key(tmp_path / "missing.pem")
