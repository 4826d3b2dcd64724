"""Open Badges served by a real `accolade serve` on loopback: a 2.0 hosted assertion with its
badge class, issuer and images, checked against the specification's rules, revoked by a
reversal; a 3.0 credential verified by PyJWT with the JWKS fetched from the server; LinkedIn's
links pointing at the public badge page."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from tests.cli.test_cli_serve import ROOT, free_port, start, stop, wait_ready

EVENT = {
    "id": "q-1",
    "type": "quiz.passed",
    "member": "ana",
    "occurred_at": "2026-05-04T09:30:00Z",
    "properties": {"quiz": "core", "score": 92},
    "attributes": {"email": "Ana@Example.com", "name": "Ana Lima"},
}


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "accolade.cli", *args],
        cwd=ROOT,
        env={**os.environ, **env, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_a_badge_is_verifiable_as_open_badges_2_and_3_until_its_event_is_reversed(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    key_file = tmp_path / "badge-key.pem"
    env = {
        "ACCOLADE_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
        "ACCOLADE_BADGE_KEY_FILE": str(key_file),
        "ACCOLADE_BADGE_ISSUER_EMAIL": "badges@example.com",
        "ACCOLADE_PUBLIC_URL": url,
    }
    cli(env, "init")
    created = cli(env, "keys", "create", "--scope", "events:write,members:read")
    api_key = re.search(r"acc_[0-9a-f]{12}_[\w-]+", created)
    assert api_key, created
    printed = cli(env, "badges", "keygen")
    assert "key id" in printed and "PRIVATE" not in printed
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    os.environ.update(env)  # start() passes os.environ on
    try:
        process = start(tmp_path, "serve", port=port)
    finally:
        for name in env:
            del os.environ[name]
    headers = {"Authorization": f"Bearer {api_key.group(0)}"}
    try:
        wait_ready(process, url)
        with httpx.Client(timeout=10) as http:
            sent = http.post(f"{url}/v1/events", json=EVENT, headers=headers)
            assert sent.status_code == 201, sent.text
            badges = http.get(f"{url}/v1/members/ana/badges", headers=headers).json()
            assert [b["key"] for b in badges] == ["certified_user"]
            badge = badges[0]
            assertion_id = badge["assertion_id"]

            # LinkedIn: the certification points at the public page, its id is the award's
            add = query(badge["linkedin_add_to_profile"])
            assert add["startTask"] == "CERTIFICATION_NAME"
            assert add["certUrl"] == badge["page_url"] == f"{url}/portal/badges/{assertion_id}"
            assert add["certId"] == assertion_id
            assert (add["issueYear"], add["issueMonth"]) == ("2026", "5")
            assert query(badge["linkedin_share"]) == {"url": badge["page_url"]}
            page = http.get(badge["page_url"])
            assert page.status_code == 200
            assert "Ana Lima" in page.text and "Certified" in page.text
            assert "ana@example.com" not in page.text.lower()

            # Open Badges 2.0, hosted: every id is where the document is served
            response = http.get(badge["assertion_url"])
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("application/ld+json")
            assertion = response.json()
            assert assertion["@context"] == "https://w3id.org/openbadges/v2"
            assert assertion["type"] == "Assertion"
            assert assertion["id"] == badge["assertion_url"]
            assert assertion["verification"] == {"type": "hosted"}
            assert assertion["issuedOn"] == "2026-05-04T09:30:00Z"
            recipient = assertion["recipient"]
            assert recipient["type"] == "email" and recipient["hashed"] is True
            expected = hashlib.sha256(("ana@example.com" + recipient["salt"]).encode())
            assert recipient["identity"] == "sha256$" + expected.hexdigest()
            assert assertion["evidence"]["id"] == badge["page_url"]
            assert "q-1" in assertion["evidence"]["narrative"]

            badge_class = http.get(assertion["badge"]).json()
            assert badge_class["id"] == assertion["badge"]
            assert badge_class["type"] == "BadgeClass"
            assert badge_class["name"] and badge_class["description"]
            assert badge_class["criteria"]["narrative"]
            image = http.get(badge_class["image"])
            assert image.status_code == 200 and image.headers["content-type"] == "image/svg+xml"
            assert image.text.startswith("<svg")
            issuer = http.get(badge_class["issuer"]).json()
            assert issuer["id"] == badge_class["issuer"]
            assert issuer["type"] == "Issuer"
            assert issuer["name"] and issuer["url"] == url
            assert issuer["email"] == "badges@example.com"

            baked = http.get(badge["baked_url"])
            assert baked.headers["content-type"] == "image/svg+xml"
            assert 'xmlns:openbadges="http://openbadges.org"' in baked.text
            assert (
                f'<openbadges:assertion verify="{badge["assertion_url"]}"><![CDATA[' in baked.text
            )

            # Open Badges 3.0: a VC-JWT that PyJWT verifies with the served JWKS
            token = http.get(badge["credential_url"])
            assert token.headers["content-type"] == "application/vc+jwt"
            signing_key = jwt.PyJWKClient(
                f"{url}/ob/.well-known/jwks.json"
            ).get_signing_key_from_jwt(token.text)
            credential = jwt.decode(token.text, signing_key.key, algorithms=["EdDSA"])
            assert credential["@context"] == [
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            ]
            assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
            assert credential["id"] == credential["jti"] == badge["credential_url"]
            assert credential["issuer"]["id"] == credential["iss"] == badge_class["issuer"]
            assert credential["validFrom"] == "2026-05-04T09:30:00Z"
            subject = credential["credentialSubject"]
            assert subject["achievement"]["id"] == assertion["badge"]
            assert subject["identifier"][0]["identityHash"] == recipient["identity"]
            tampered = token.text[:-4] + ("AAAA" if not token.text.endswith("AAAA") else "BBBB")
            try:
                jwt.decode(tampered, signing_key.key, algorithms=["EdDSA"])
            except jwt.InvalidSignatureError:
                pass
            else:
                raise AssertionError("a tampered credential verified")

            # the awarding event reversed: the assertion answers revoked, the page is gone
            reversed_ = http.post(
                f"{url}/v1/events/q-1/reversal", json={"reason": "quiz retaken"}, headers=headers
            )
            assert reversed_.status_code in (200, 201), reversed_.text
            revoked = http.get(badge["assertion_url"])
            assert revoked.status_code == 410
            body = revoked.json()
            assert body["revoked"] is True and body["id"] == badge["assertion_url"]
            assert "quiz retaken" in body["revocationReason"]
            assert http.get(badge["page_url"]).status_code == 404
            assert http.get(badge["credential_url"]).status_code == 404
            assert http.get(f"{url}/v1/members/ana/badges", headers=headers).json() == []
    finally:
        stop(process)


def test_keygen_refuses_to_replace_a_key_without_force(tmp_path):
    key_file = tmp_path / "k.pem"
    env = {"ACCOLADE_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    cli(env, "badges", "keygen", "--output", str(key_file))
    first = key_file.read_bytes()
    again = subprocess.run(
        [sys.executable, "-m", "accolade.cli", "badges", "keygen", "--output", str(key_file)],
        cwd=ROOT,
        env={**os.environ, **env, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
    )
    assert again.returncode == 2, again.stdout + again.stderr
    assert "--force" in again.stderr and key_file.read_bytes() == first
    cli(env, "badges", "keygen", "--output", str(key_file), "--force")
    assert key_file.read_bytes() != first
    assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")


VALIDATOR = os.environ.get("ACCOLADE_TEST_OPENBADGES_PYTHON")


@pytest.mark.skipif(
    not VALIDATOR,
    reason="ACCOLADE_TEST_OPENBADGES_PYTHON names no Python with the 1EdTech validator "
    "(docs/openbadges.md#validators says how to install it)",
)
def test_the_1edtech_validator_accepts_a_hosted_assertion_and_rejects_it_once_revoked(tmp_path):
    assert VALIDATOR
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "ACCOLADE_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
        "ACCOLADE_BADGE_ISSUER_EMAIL": "badges@example.com",
    }
    cli(env, "init")
    created = cli(env, "keys", "create", "--scope", "events:write,members:read")
    api_key = re.search(r"acc_[0-9a-f]{12}_[\w-]+", created)
    assert api_key, created
    os.environ.update(env)
    try:
        process = start(tmp_path, "serve", port=port)
    finally:
        for name in env:
            del os.environ[name]
    headers = {"Authorization": f"Bearer {api_key.group(0)}"}

    def validate(assertion_url: str) -> dict[str, object]:
        checked = subprocess.run(
            [
                VALIDATOR,
                str(ROOT / "tests" / "cli" / "openbadges_validator.py"),
                assertion_url,
                "ana@example.com",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert checked.returncode == 0, checked.stderr
        return dict(json.loads(checked.stdout.splitlines()[-1]))

    try:
        wait_ready(process, url)
        with httpx.Client(timeout=10) as http:
            assert http.post(f"{url}/v1/events", json=EVENT, headers=headers).status_code == 201
            badge = http.get(f"{url}/v1/members/ana/badges", headers=headers).json()[0]
            accepted = validate(badge["assertion_url"])
            assert accepted == {"valid": True, "errors": []}
            reversed_ = http.post(
                f"{url}/v1/events/q-1/reversal", json={"reason": "quiz retaken"}, headers=headers
            )
            assert reversed_.status_code in (200, 201), reversed_.text
            rejected = validate(badge["assertion_url"])
            assert rejected["valid"] is False and rejected["errors"], rejected
    finally:
        stop(process)
