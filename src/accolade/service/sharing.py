"""Where a member shares a badge: LinkedIn's add-to-profile and share links, built once here for
the portal, the API and the Open Badges work to reuse. Pure: no store, no clock."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"
LINKEDIN_SHARE = "https://www.linkedin.com/sharing/share-offsite/"


@dataclass(frozen=True)
class BadgeShare:
    """The links that share one earned badge."""

    add_to_profile: str  # adds it to the member's LinkedIn profile as a certification
    share: str  # a LinkedIn post pointing at ``cert_url``
    cert_url: str
    cert_id: str


def certificate_id(program: str, member: str, badge: str, period: str) -> str:
    """A stable id for one award of a badge (a period of a repeating badge is another award),
    opaque so that the member's id does not show on their public profile."""
    text = "\x00".join((program, member, badge, period))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def linkedin_add_to_profile(
    *, name: str, organization: str, issued_at: datetime, cert_url: str, cert_id: str
) -> str:
    """LinkedIn's "Add to profile" link for a certification: ``name`` issued by
    ``organization`` in the month of ``issued_at`` (give it in the zone it was earned in)."""
    query = {
        "startTask": "CERTIFICATION_NAME",
        "name": name,
        "organizationName": organization,
        "issueYear": str(issued_at.year),
        "issueMonth": str(issued_at.month),
        "certUrl": cert_url,
        "certId": cert_id,
    }
    return f"{LINKEDIN_ADD_TO_PROFILE}?{urlencode(query, quote_via=quote)}"


def linkedin_share(url: str) -> str:
    """LinkedIn's share link for a page: the member writes the post, LinkedIn shows the page."""
    return f"{LINKEDIN_SHARE}?{urlencode({'url': url}, quote_via=quote)}"


def badge_share(
    *,
    program: str,
    organization: str,
    member: str,
    badge: str,
    badge_name: str,
    period: str,
    issued_at: datetime,
    cert_url: str,
) -> BadgeShare:
    """Both LinkedIn links for one earned badge; ``cert_url`` is the page that shows it."""
    cert_id = certificate_id(program, member, badge, period)
    return BadgeShare(
        add_to_profile=linkedin_add_to_profile(
            name=badge_name,
            organization=organization,
            issued_at=issued_at,
            cert_url=cert_url,
            cert_id=cert_id,
        ),
        share=linkedin_share(cert_url),
        cert_url=cert_url,
        cert_id=cert_id,
    )
