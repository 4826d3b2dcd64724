"""The analytics dashboards in chromium: no axe-core violation of any impact (not only the
serious ones every console page is held to) at a phone's and a desktop's width, and an
experiment's page, with its interval chart, on a site of its own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.store.database import make_engine
from accolade.store.unit_of_work import Store
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.console_site import CONSOLE_PAGES, console_user, open_console_page, sign_in
from tests.browser.site import Site, serve
from tests.browser.test_portal_accessibility import AXE
from tests.integration.test_experiments import AFTER, EMEA, JULY, PILOT, ev

WIDTHS = {"phone": PHONE, "desktop": DESKTOP}
DASHBOARDS = sorted(name for name in CONSOLE_PAGES if name.startswith("analytics"))


def every_violation(page: Page) -> list[str]:
    found = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']}; "
        + ", ".join(" ".join(n["target"]) for n in v["nodes"][:8])
        for v in found
    ]


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", DASHBOARDS)
def test_a_dashboard_has_no_accessibility_violation_of_any_impact(
    site: Site, page: Page, name, width
):
    page.set_viewport_size(WIDTHS[width])  # type: ignore[arg-type]
    sign_in(page, site, console_user(site, "ana@example.com", "admin"))

    open_console_page(page, site, name)

    found = every_violation(page)
    assert not found, f"{CONSOLE_PAGES[name]} at {width} width:\n" + "\n".join(found)


@pytest.fixture
def pilot_site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    """A site of its own with the pilot program of tests/integration/test_experiments.py, its
    experiment's window over and members in both arms."""
    path = tmp_path / "accolade.db"
    shutil.copyfile(sqlite_template, path)
    store = Store(make_engine("sqlite:///" + str(path)))
    try:
        with serve(store) as site:
            publish(store, PILOT, clock=site.clock)
            sent = [ev(f"l{i}", "login", f"m{i}", attributes=EMEA) for i in range(40)]
            sent += [ev(f"w{i}", "webinar.attended", f"m{i}") for i in range(0, 40, 2)]
            ingest_batch(store, "pilot", list(enumerate(sent, 1)), clock=lambda: JULY)
            site.clock.now = AFTER
            yield site
    finally:
        store.close()


def test_an_experiments_page_draws_each_interval_without_a_violation(pilot_site: Site, page: Page):
    sign_in(page, pilot_site, console_user(pilot_site, "ana@example.com", "admin"))
    page.goto(f"{pilot_site.url}/console/switch?program=pilot&back=/console/analytics")
    page.get_by_role("link", name="Do webinar points lift adoption?").click()

    expect(page.get_by_role("heading", name="Do webinar points lift adoption?")).to_be_visible()
    expect(page.locator("svg.interval").first).to_be_visible()
    expect(page.locator("#outcomes tbody tr")).to_have_count(page.locator("svg.interval").count())
    for width, viewport in {**WIDTHS, "narrowest": {"width": 320, "height": 800}}.items():
        page.set_viewport_size(viewport)  # type: ignore[arg-type]
        found = every_violation(page)
        assert not found, f"at {width} width:\n" + "\n".join(found)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
