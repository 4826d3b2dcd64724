"""The audit log on its page (every change or one program's, newest first, a page at a time)
and through the API (GET /v1/audit: the key's program, with the program:admin scope)."""

from __future__ import annotations

import pytest

from accolade.service.keys import create_key, revoke_key
from tests.console.builders import console_on


@pytest.fixture
def console(store):
    with console_on(store) as console:
        yield console


def changes(console, program: str, count: int) -> list[str]:
    """``count`` keys created and revoked by 'ana@example.com': two audit rows each."""
    made = []
    for n in range(count):
        key = create_key(
            console.api.store, program, ("events:write",), f"k{n}", actor="ana@example.com"
        )
        revoke_key(console.api.store, key.key_id, actor="ana@example.com")
        made.append(key.key_id)
    return made


def test_the_audit_page_lists_changes_newest_first_with_before_and_after(console):
    viewer = console.browser("viewer")
    [key_id] = changes(console, "partner", 1)

    page = viewer.get("/console/audit").text

    assert page.index("api_key.revoked") < page.index("api_key.created")
    assert key_id in page and "ana@example.com" in page
    assert "revoked_at" in page  # the after of the revocation


def test_the_audit_page_filters_by_program_and_pages_back(console):
    viewer = console.browser("viewer")
    partner = changes(console, "partner", 30)  # 60 rows: two pages
    [community] = changes(console, "community", 1)

    first = viewer.get("/console/audit", params={"program": "partner"})

    assert first.status_code == 200
    assert community not in first.text and "console_user.created" not in first.text
    assert partner[-1] in first.text and partner[0] not in first.text
    older = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = viewer.get(older.replace("&amp;", "&"))
    assert partner[0] in second.text
    assert 'rel="next"' not in second.text


def test_the_api_returns_the_keys_program_audit_log_paged(console):
    partner = changes(console, "partner", 2)
    changes(console, "community", 1)
    headers = console.api.key("program:admin")

    first = console.api.client.get("/v1/audit", params={"limit": 3}, headers=headers)

    assert first.status_code == 200, first.text
    body = first.json()
    assert [e["action"] for e in body["entries"]] == [
        "api_key.revoked",
        "api_key.created",
        "api_key.revoked",
    ]
    assert {e["program"] for e in body["entries"]} == {"partner"}
    assert body["entries"][0]["target"] == partner[1]
    assert body["entries"][0]["before"]["name"] == "k1"
    assert body["entries"][0]["after"]["revoked_at"]
    rest = console.api.client.get(
        "/v1/audit", params={"before": body["next_before"]}, headers=headers
    )
    assert [e["target"] for e in rest.json()["entries"]] == [partner[0]]
    assert rest.json()["next_before"] is None


def test_the_api_needs_the_program_admin_scope(console):
    refused = console.api.client.get("/v1/audit", headers=console.api.key("members:read"))

    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == "scope"
