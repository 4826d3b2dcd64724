"""axe-core (the copy axe-playwright-python bundles, no CDN) on every page of the portal, at a
phone's width and a desktop's: no violation of impact serious or critical."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.site import PAGES, Site, open_page

AXE = Axe()
BLOCKING = ("serious", "critical")


def violations(page: Page) -> list[str]:
    """The blocking violations axe finds on the page: each rule's id, impact and the
    elements that break it."""
    found = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']}; "
        + ", ".join(" ".join(n["target"]) for n in v["nodes"][:8])
        for v in found
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("width", ["phone", "desktop"])
@pytest.mark.parametrize("name", sorted(PAGES))
def test_a_page_has_no_serious_accessibility_violation(site: Site, page: Page, name, width):
    page.set_viewport_size(PHONE if width == "phone" else DESKTOP)  # type: ignore[arg-type]
    page.goto(site.link("alice"))
    open_page(page, site, name)
    found = violations(page)
    assert not found, f"{PAGES[name]} at {width} width:\n" + "\n".join(found)


def test_the_signed_out_page_has_no_serious_accessibility_violation(site: Site, page: Page):
    page.goto(f"{site.url}/portal/")  # no session: the page that asks to sign in again
    assert not violations(page), "\n".join(violations(page))
    page.goto(f"{site.url}/portal/signed-out")
    assert not violations(page), "\n".join(violations(page))


def test_no_page_scrolls_sideways_at_320_pixels(site: Site, page: Page):
    # WCAG 1.4.10 (reflow): content fits 320 CSS pixels; a wide table scrolls in its own region
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(site.link("alice"))
    wide = []
    for name in PAGES:
        open_page(page, site, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            wide.append(f"{PAGES[name]} is {width} pixels wide")
    assert not wide, "\n".join(wide)
