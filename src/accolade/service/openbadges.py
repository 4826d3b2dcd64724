"""Open Badges 2.0 hosted verification: each award of a badge as an Assertion, its badge as a
BadgeClass and the program as its Issuer, all read from the ledger, and the badges a member
shares (with LinkedIn's links) registered under the opaque id their URLs carry.

An award is one (member, badge, period); its id is `sharing.certificate_id`, the same as the
certId LinkedIn shows. Whether it is held or revoked is read from the ledger each time, so a
reversal revokes the assertion at once and a replay changes nothing of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accolade.engine.badges import describe_badge
from accolade.engine.effects import EntryKind
from accolade.errors import NotFound
from accolade.service import Clock, system_clock
from accolade.service import badges as badges_service
from accolade.service.members import program_and_member
from accolade.service.programs import active
from accolade.service.sharing import badge_share, certificate_id
from accolade.store.repositories.badge_assertions import NewAssertion
from accolade.store.unit_of_work import Store, UnitOfWork

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
# The member attribute that hides their public badge pages (set from the portal): the hosted
# assertions stay verifiable, since whoever holds one was given its URL by the member.
PRIVATE_ATTRIBUTE = "badge_pages_private"
EMAIL_ATTRIBUTE = "email"
# The public page names the holder by this attribute; without it, it says "a member" (never
# the member's id, which is often an email address).
NAME_ATTRIBUTE = "name"


@dataclass(frozen=True)
class Links:
    """The absolute URLs of Accolade's public badge documents, from its public base URL."""

    base: str  # e.g. https://accolade.example.com, no trailing slash

    def issuer(self, program: str) -> str:
        return f"{self.base}/ob/issuers/{program}"

    def badge_class(self, program: str, badge: str) -> str:
        return f"{self.base}/ob/badges/{program}/{badge}"

    def image(self, program: str, badge: str) -> str:
        return f"{self.base}/ob/badges/{program}/{badge}/image.svg"

    def assertion(self, assertion: str) -> str:
        return f"{self.base}/ob/assertions/{assertion}"

    def baked(self, assertion: str) -> str:
        return f"{self.base}/ob/assertions/{assertion}/baked.svg"

    def credential(self, assertion: str) -> str:
        return f"{self.base}/ob/credentials/{assertion}"

    def jwks(self) -> str:
        return f"{self.base}/ob/.well-known/jwks.json"

    def page(self, assertion: str) -> str:
        return f"{self.base}/portal/badges/{assertion}"


@dataclass(frozen=True)
class Issuer:
    """Who issues a program's badges: the program's name, and the URL and email settings
    give (ACCOLADE_BADGE_ISSUER_URL, ACCOLADE_BADGE_ISSUER_EMAIL)."""

    program: str
    name: str
    url: str | None
    email: str | None


@dataclass(frozen=True)
class Award:
    """One award of a badge, as the ledger tells it now."""

    assertion: str
    program: str
    program_name: str
    member: str
    email: str | None  # the member's email attribute; None: no recipient to name
    holder: str | None  # the member's name attribute, shown on the public page
    private: bool  # the member hid their badge pages
    badge: str
    badge_name: str
    description: str | None
    criteria: str
    image: str | None  # the image the program names for the badge, if any
    period: str
    issued_at: datetime
    event_id: str  # the sender's id of the event that earned it
    event_type: str
    revoked_at: datetime | None
    revocation_reason: str | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class SharedBadge:
    """A badge a member holds, with where it is shown and LinkedIn's links to it."""

    key: str
    name: str
    description: str | None
    period: str
    awarded_at: datetime
    points: int
    assertion_id: str
    assertion_url: str  # the Open Badges 2.0 hosted assertion (JSON)
    page_url: str  # the public badge page (HTML): LinkedIn's certUrl
    image_url: str
    baked_url: str
    credential_url: str  # the Open Badges 3.0 credential (VC-JWT)
    linkedin_add_to_profile: str
    linkedin_share: str


def shared_badges(
    store: Store, program_key: str, member: str, links: Links, *, clock: Clock = system_clock
) -> list[SharedBadge]:
    """The badges ``member`` holds, newest first, each registered under its assertion id so
    that its URLs answer from now on."""
    held = badges_service.member_badges(store, program_key, member)
    with store.read() as uow:
        zone = active(uow, program_key).compiled.zone
    shared: list[SharedBadge] = []
    for b in held.earned:
        assertion = certificate_id(held.program, member, b.key, b.period)
        share = badge_share(
            program=held.program,
            organization=held.program_name,
            member=member,
            badge=b.key,
            badge_name=b.name,
            period=b.period,
            issued_at=b.awarded_at.astimezone(zone),
            cert_url=links.page(assertion),
        )
        shared.append(
            SharedBadge(
                key=b.key,
                name=b.name,
                description=b.description,
                period=b.period,
                awarded_at=b.awarded_at,
                points=b.points,
                assertion_id=assertion,
                assertion_url=links.assertion(assertion),
                page_url=share.cert_url,
                image_url=links.image(held.program, b.key),
                baked_url=links.baked(assertion),
                credential_url=links.credential(assertion),
                linkedin_add_to_profile=share.add_to_profile,
                linkedin_share=share.share,
            )
        )
    if shared:
        with store.transaction() as uow:
            program, row = _program_member(uow, program_key, member)
            uow.badge_assertions.register(
                program,
                [NewAssertion(s.assertion_id, row, s.key, s.period) for s in shared],
                clock(),
            )
    return shared


def _program_member(uow: UnitOfWork, program_key: str, member: str) -> tuple[int, int]:
    program, row = program_and_member(uow, program_key, member)
    return program.id, row.id


def award(store: Store, assertion: str) -> Award:
    """The award ``assertion`` names, held or revoked; NotFound for an id never registered
    (or one whose badge the ledger has no award of)."""
    with store.read() as uow:
        found = uow.badge_assertions.find(assertion)
        if found is None:
            raise NotFound(f"no badge assertion '{assertion}'", field="assertion")
        entries = uow.badge_assertions.award_entries(found.member_id, found.badge, found.period)
        compiled = active(uow, found.program).compiled
    awards = [e for e in entries if e.kind == EntryKind.BADGE.value]
    if not awards:
        raise NotFound(f"no badge assertion '{assertion}'", field="assertion")
    last = entries[-1]
    earned = awards[-1]
    badge = compiled.badges.get(found.badge)
    attributes = found.attributes or {}
    email = attributes.get(EMAIL_ATTRIBUTE)
    return Award(
        assertion=assertion,
        program=found.program,
        program_name=compiled.definition.name,
        member=found.member,
        email=email.strip() if isinstance(email, str) and "@" in email else None,
        holder=name if isinstance(name := attributes.get(NAME_ATTRIBUTE), str) and name else None,
        private=attributes.get(PRIVATE_ATTRIBUTE) is True,
        badge=found.badge,
        badge_name=badge.name if badge else found.badge,
        description=badge.description if badge else None,
        criteria=describe_badge(compiled, badge) if badge else "",
        image=badge.image if badge else None,
        period=found.period,
        issued_at=earned.occurred_at.replace(tzinfo=UTC),
        event_id=earned.event_id,
        event_type=earned.event_type,
        revoked_at=last.recorded_at.replace(tzinfo=UTC)
        if last.kind == EntryKind.BADGE_REVOKED.value
        else None,
        revocation_reason=last.reason if last.kind == EntryKind.BADGE_REVOKED.value else None,
    )


def public_award(store: Store, assertion: str) -> Award:
    """The award for its public page: NotFound when revoked or when the member made their
    badge pages private (said in the same words, so a private page reveals nothing)."""
    found = award(store, assertion)
    if found.private or found.revoked:
        raise NotFound(f"no public badge page '{assertion}'", field="assertion")
    return found


def issuer_of(store: Store, program_key: str, *, url: str | None, email: str | None) -> Issuer:
    with store.read() as uow:
        compiled = active(uow, program_key).compiled
    return Issuer(compiled.key, compiled.definition.name, url, email)


# --- documents ------------------------------------------------------------------------------


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def salt_of(assertion: str) -> str:
    """The recipient hash's salt: published in the assertion anyway, stable per award so the
    document is the same at every request."""
    return hashlib.sha256(f"accolade-ob-salt\x00{assertion}".encode()).hexdigest()[:16]


def hashed_email(email: str, salt: str) -> str:
    """``sha256$`` and the hex SHA-256 of the lowercased email followed by the salt (the
    Open Badges IdentityObject)."""
    return "sha256$" + hashlib.sha256((email.lower() + salt).encode()).hexdigest()


def recipient(found: Award) -> dict[str, Any]:
    """The award's IdentityObject. A member without an email attribute has no recipient an
    Open Badges verifier can check: NotFound, saying so (the public page still shows)."""
    if found.email is None:
        raise NotFound(
            f"badge assertion '{found.assertion}': the member has no email attribute, which "
            "an Open Badges assertion names its recipient by",
            field="email",
        )
    salt = salt_of(found.assertion)
    return {
        "type": "email",
        "hashed": True,
        "salt": salt,
        "identity": hashed_email(found.email, salt),
    }


def assertion_document(found: Award, links: Links) -> dict[str, Any]:
    """The Open Badges 2.0 Assertion, verified by hosting (its id is where it is served). A
    revoked one is only its id with ``revoked`` and ``revocationReason``, served with 410."""
    if found.revoked:
        return {
            "@context": OB2_CONTEXT,
            "id": links.assertion(found.assertion),
            "type": "Assertion",
            "revoked": True,
            "revocationReason": found.revocation_reason or "revoked",
        }
    document: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "id": links.assertion(found.assertion),
        "type": "Assertion",
        "recipient": recipient(found),
        "badge": links.badge_class(found.program, found.badge),
        "verification": {"type": "hosted"},
        "issuedOn": _iso(found.issued_at),
        "image": links.baked(found.assertion),
        "evidence": {
            "id": links.page(found.assertion),
            "name": f"{found.event_type} {found.event_id}",
            "narrative": f"Earned by the event '{found.event_id}' ({found.event_type}) of "
            f"{_iso(found.issued_at)}"
            + (f", for the period {found.period}" if found.period else "")
            + ".",
        },
    }
    return document


def badge_class_document(
    store: Store, program_key: str, badge_key: str, links: Links
) -> dict[str, Any]:
    """The Open Badges 2.0 BadgeClass of a badge of the active version: NotFound for a key it
    does not have."""
    with store.read() as uow:
        compiled = active(uow, program_key).compiled
    badge = compiled.badges.get(badge_key)
    if badge is None:
        raise NotFound(f"no badge '{badge_key}' in program '{program_key}'", field="badge")
    criteria = describe_badge(compiled, badge)
    return {
        "@context": OB2_CONTEXT,
        "id": links.badge_class(program_key, badge_key),
        "type": "BadgeClass",
        "name": badge.name,
        "description": badge.description or f"{badge.name}: {criteria}",
        "image": badge.image or links.image(program_key, badge_key),
        "criteria": {"narrative": criteria},
        "issuer": links.issuer(program_key),
    }


def issuer_document(issuer: Issuer, links: Links) -> dict[str, Any]:
    """The Open Badges 2.0 Profile of the program as an Issuer."""
    document: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "id": links.issuer(issuer.program),
        "type": "Issuer",
        "name": issuer.name,
        "url": issuer.url or links.base,
    }
    if issuer.email:
        document["email"] = issuer.email
    return document
