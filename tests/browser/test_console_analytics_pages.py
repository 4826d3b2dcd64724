"""An experiment's page in chromium, with its interval chart, on a site of its own: no axe-core
violation of any impact at a phone's, a desktop's and the narrowest width (the dashboards are
held to the same in test_console_pages.py, with every console page)."""

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
from tests.browser.console_site import console_user, every_violation, sign_in
from tests.browser.site import Site, serve
from tests.integration.test_experiments import AFTER, EMEA, JULY, PILOT, ev

WIDTHS = {"phone": PHONE, "desktop": DESKTOP}


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
