"""The admin console in chromium: signing in through the form, what each role sees, axe-core on
every page at a phone's and a desktop's width (no violation of any impact, minor included), and
screenshots of every page into docs/console/screenshots/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from accolade.store.database import make_engine
from accolade.store.unit_of_work import Store
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.console_site import (
    CONSOLE_PAGES,
    PASSWORD,
    audited_changes,
    console_user,
    every_violation,
    open_console_page,
    sign_in,
)
from tests.browser.site import Site, serve

FOLDER = Path(__file__).parents[2] / "docs" / "console" / "screenshots"
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}
LARGEST = 300_000  # bytes: a screenshot the docs can carry in the repository


def test_signing_in_through_the_form_opens_the_console(any_site: Site, page: Page):
    email = console_user(any_site, "ana@example.com", "admin")

    sign_in(page, any_site, email)

    assert page.url == f"{any_site.url}/console/"
    expect(page.get_by_role("heading", name="Console")).to_be_visible()
    expect(page.get_by_text("ana@example.com")).to_be_visible()
    page.get_by_role("link", name="Audit").first.click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    assert page.url == f"{any_site.url}/console/signin"


def test_a_wrong_password_shows_the_refusal_and_no_session(site: Site, page: Page):
    email = console_user(site, "ben@example.com", "viewer")

    sign_in(page, site, email, "not " + PASSWORD)

    expect(page.get_by_role("alert")).to_contain_text("wrong email or password")
    assert page.goto(f"{site.url}/console/").status == 401  # type: ignore[union-attr]


def test_a_viewer_sees_the_access_page_without_its_buttons(site: Site, page: Page):
    email = console_user(site, "vic@example.com", "viewer")
    sign_in(page, site, email)

    open_console_page(page, site, "access")

    expect(page.get_by_role("heading", name="Console users")).to_be_visible()
    for name in ("Create user", "Create key", "Revoke", "Disable"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)


def test_an_admin_creates_a_key_and_sees_it_once(site: Site, page: Page):
    email = console_user(site, "ana@example.com", "admin")
    sign_in(page, site, email)
    open_console_page(page, site, "access")

    page.get_by_label("Key name").fill("browser-made")
    page.get_by_label("events:write", exact=False).check()
    page.get_by_role("button", name="Create key").click()

    key = page.locator("#created-key").inner_text()
    assert key.startswith("acc_")
    open_console_page(page, site, "audit")
    expect(page.get_by_text("api_key.created").first).to_be_visible()
    assert key not in page.content()


@pytest.mark.parametrize("width", ["phone", "desktop"])
@pytest.mark.parametrize("name", sorted(CONSOLE_PAGES))
def test_a_console_page_has_no_accessibility_violation_of_any_impact(
    site: Site, page: Page, name, width
):
    page.set_viewport_size(WIDTHS[width])  # type: ignore[arg-type]
    email = console_user(site, "ana@example.com", "admin")
    audited_changes(site, email)
    sign_in(page, site, email)

    open_console_page(page, site, name)

    found = every_violation(page)
    assert not found, f"{CONSOLE_PAGES[name]} at {width} width:\n" + "\n".join(found)


def test_no_console_page_scrolls_sideways_at_320_pixels(site: Site, page: Page):
    # WCAG 1.4.10 (reflow), as the portal's: a wide table scrolls in its own region
    page.set_viewport_size({"width": 320, "height": 800})
    email = console_user(site, "ana@example.com", "admin")
    sign_in(page, site, email)
    wide = []
    for name in CONSOLE_PAGES:
        open_console_page(page, site, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            wide.append(f"{CONSOLE_PAGES[name]} is {width} pixels wide")
    assert not wide, "\n".join(wide)


@pytest.fixture
def quiet_site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    """A site no other test writes to: the screenshots show the seed and nothing else."""
    path = tmp_path / "accolade.db"
    shutil.copyfile(sqlite_template, path)
    store = Store(make_engine("sqlite:///" + str(path)))
    try:
        with serve(store) as site:
            yield site
    finally:
        store.close()


def test_every_console_page_is_shot_at_a_phones_and_a_desktops_width(
    quiet_site: Site, browser: Browser
):
    FOLDER.mkdir(parents=True, exist_ok=True)
    admin = console_user(quiet_site, "ana@example.com", "admin")
    console_user(quiet_site, "bo@example.com", "operator")
    console_user(quiet_site, "vic@example.com", "viewer")
    audited_changes(quiet_site, admin)
    written = []
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        page = context.new_page()
        for name in CONSOLE_PAGES:
            if name == "signin":
                page.goto(quiet_site.url + CONSOLE_PAGES[name])
            else:
                if name == "home":
                    sign_in(page, quiet_site, admin)
                open_console_page(page, quiet_site, name)
            # key ids are random: covered, so that the same page gives the same file
            varies = [page.locator("code.key-id"), page.locator("td.target")]
            image = page.screenshot(
                full_page=True, animations="disabled", caret="hide", mask=varies
            )
            assert len(image) < LARGEST, f"{name}-{width}.png is {len(image):,} bytes"
            path = FOLDER / f"{name}-{width}.png"
            if not path.exists() or path.read_bytes() != image:
                path.write_bytes(image)
            written.append(path.name)
        context.close()
    assert sorted(written) == sorted(p.name for p in FOLDER.glob("*.png")), (
        "docs/console/screenshots/ holds a screenshot of a page no longer shot"
    )
