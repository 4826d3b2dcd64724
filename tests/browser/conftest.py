"""Browser tests: Debian's chromium (/usr/bin/chromium) driven by Playwright, against the portal
served on loopback. One server per database and one browser per session (per xdist worker);
each test gets a browser context of its own (its own cookies).

Playwright never downloads a browser here: .ci/run installs Debian's chromium when it is
missing, and without it these tests fail with the command that installs it (never skipped).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from accolade.store.database import make_engine
from accolade.store.unit_of_work import Store
from tests.browser.site import Site, serve
from tests.integration.conftest import (  # noqa: F401  (the templates the stores are copied from)
    SchemaPool,
    postgres_admin,
    postgres_engine,
    postgres_migration,
    postgres_schemas,
    postgres_url,
    require_postgres,
    sqlite_template,
)

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"chromium is not installed at {CHROMIUM}: the browser tests drive Debian's "
            "chromium (apt-get install -y chromium; .ci/run installs it). Playwright must not "
            "download a browser of its own.",
            pytrace=False,
        )
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def sqlite_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The portal on a copy of the migrated SQLite template."""
    path = tmp_path_factory.mktemp("portal") / "accolade.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    store = Store(make_engine("sqlite:///" + str(path)))
    try:
        with serve(store) as site:
            yield site
    finally:
        store.close()


@pytest.fixture(scope="session")
def postgresql_site(request: pytest.FixtureRequest) -> Iterator[Site]:
    """The portal on a migrated PostgreSQL schema of its own."""
    pool: SchemaPool = request.getfixturevalue("postgres_schemas")
    schema, engine = pool.take()
    store = Store(engine)
    try:
        with serve(store) as site:
            yield site
    finally:
        store.close()
        pool.give_back(schema, postgres_engine(postgres_url(), schema))


@pytest.fixture
def site(sqlite_site: Site) -> Site:
    """Most scenarios run on SQLite; ``any_site`` runs one on each database."""
    return sqlite_site


@pytest.fixture(params=["sqlite", "postgresql"])
def any_site(request: pytest.FixtureRequest) -> Site:
    if request.param == "postgresql":
        require_postgres()  # fails, with the reason, when the server is down
    site: Site = request.getfixturevalue(f"{request.param}_site")
    return site


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    yield opened
    opened.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
