"""The admin console as a browser meets it, on the portal's site (tests/browser/site.py): console
users of each role, a few audited changes, and signing in through the form."""

from __future__ import annotations

from contextlib import suppress

from playwright.sync_api import Page, Response

from accolade.errors import Conflict
from accolade.service.console_users import create_user
from accolade.service.keys import create_key, revoke_key
from tests.browser.site import PROGRAM, Site
from tests.browser.test_portal_accessibility import AXE

PASSWORD = "correct horse battery"

# Every console page, by the name its screenshots carry: its path under the site.
CONSOLE_PAGES = {
    "signin": "/console/signin",
    "home": "/console/",
    "access": "/console/access",
    "audit": "/console/audit",
    "analytics": "/console/analytics",
    "analytics-activation": "/console/analytics/activation",
    "analytics-active": "/console/analytics/active?by=team",
    "analytics-completion": "/console/analytics/completion",
    "analytics-points": "/console/analytics/points?interval=week",
    "analytics-retention": "/console/analytics/retention",
    "analytics-members": "/console/analytics/active/members?measure=active",
    "members": "/console/members?q=a",
    "member": "/console/members/alice",
    "operations": "/console/operations",
    "operations-webhooks": "/console/operations/webhooks",
    "operations-board": "/console/operations/boards/all_time",
    "program": "/console/program?from=1&to=1",
    "program-draft": "/console/program/draft",
    "not-found": "/console/no-such-page",
}


def every_violation(page: Page) -> list[str]:
    """Every violation axe finds on the page, of any impact (the console is held to all of
    them, minor and moderate too): each rule's id, impact and the elements that break it."""
    found = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']}; "
        + ", ".join(" ".join(n["target"]) for n in v["nodes"][:8])
        for v in found
    ]


def console_user(site: Site, email: str, role: str) -> str:
    """A console user of ``role`` (made once per site: the site lives for the session)."""
    with suppress(Conflict):
        create_user(site.store, email, role, PASSWORD, clock=site.clock)
    return email


def audited_changes(site: Site, actor: str) -> None:
    """A key created and another revoked by ``actor``: rows for the audit page to show."""
    create_key(site.store, PROGRAM, ("events:write",), "crm", site.clock, actor=actor)
    old = create_key(
        site.store, PROGRAM, ("members:read",), "old dashboard", site.clock, actor=actor
    )
    revoke_key(site.store, old.key_id, site.clock, actor=actor)


def sign_in(page: Page, site: Site, email: str, password: str = PASSWORD) -> Response | None:
    page.goto(f"{site.url}/console/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    return None


def open_console_page(page: Page, site: Site, name: str) -> Response:
    path = CONSOLE_PAGES[name]
    answer = page.goto(site.url + path)
    assert answer is not None, path
    assert answer.status == (404 if name == "not-found" else 200), f"{path}: {answer.status}"
    return answer
