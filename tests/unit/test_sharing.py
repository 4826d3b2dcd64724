"""LinkedIn links for an earned badge: add to profile and share, every value URL-encoded."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from accolade.service.sharing import (
    badge_share,
    certificate_id,
    linkedin_add_to_profile,
    linkedin_share,
)

PAGE = "https://accolade.example.com/portal/badges#badge-certified_user"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, strict_parsing=True).items()}


def test_add_to_profile_carries_the_certification_fields():
    url = linkedin_add_to_profile(
        name="Certified User & Co",
        organization="Acme Partner Program",
        issued_at=datetime(2026, 6, 1, tzinfo=UTC),
        cert_url=PAGE,
        cert_id="abc",
    )
    assert url.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&")
    assert query(url) == {
        "startTask": "CERTIFICATION_NAME",
        "name": "Certified User & Co",
        "organizationName": "Acme Partner Program",
        "issueYear": "2026",
        "issueMonth": "6",
        "certUrl": PAGE,
        "certId": "abc",
    }
    assert " " not in url and "#" not in url and "&Co" not in url


def test_share_link_points_at_the_page():
    url = linkedin_share(PAGE)
    assert url.startswith("https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2F")
    assert query(url) == {"url": PAGE}


def test_a_certificate_id_is_stable_per_award_and_hides_the_member():
    one = certificate_id("partner", "alice@example.com", "expert", "2026")
    assert one == certificate_id("partner", "alice@example.com", "expert", "2026")
    assert one != certificate_id("partner", "alice@example.com", "expert", "2027")
    assert one != certificate_id("partner", "bob@example.com", "expert", "2026")
    assert "alice" not in one and len(one) == 20


def test_badge_share_builds_both_links_for_one_award():
    shared = badge_share(
        program="partner",
        organization="Acme Partner Program",
        member="alice",
        badge="certified_user",
        badge_name="Certified User",
        period="",
        issued_at=datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
        cert_url=PAGE,
    )
    assert shared.cert_id == certificate_id("partner", "alice", "certified_user", "")
    assert query(shared.add_to_profile)["certId"] == shared.cert_id
    assert query(shared.add_to_profile)["issueMonth"] == "12"
    assert query(shared.share) == {"url": PAGE}
