"""Screenshots of every portal page at a phone's width and a desktop's, written into
docs/portal/screenshots/ (docs/portal.md links to them) as ``<page>-<width>.png``.

They are taken on a site of their own, the seeded members only and the clock fixed, so the same
pages give the same files: a run rewrites a file only when its page looks different.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from accolade.store.database import make_engine
from accolade.store.unit_of_work import Store
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.site import PAGES, Site, open_page, serve

FOLDER = Path(__file__).parents[2] / "docs" / "portal" / "screenshots"
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}
LARGEST = 300_000  # bytes: a screenshot the docs can carry in the repository
SHOWN = [name for name in PAGES if name != "not-found"]


@pytest.fixture
def quiet_site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    """A site no other test writes to: what the screenshots show is the seed, nothing else."""
    path = tmp_path / "accolade.db"
    shutil.copyfile(sqlite_template, path)
    store = Store(make_engine("sqlite:///" + str(path)))
    try:
        with serve(store) as site:
            yield site
    finally:
        store.close()


def write_if_changed(path: Path, image: bytes) -> None:
    if not path.exists() or path.read_bytes() != image:
        path.write_bytes(image)


def test_every_page_is_shot_at_a_phones_and_a_desktops_width(quiet_site: Site, browser: Browser):
    FOLDER.mkdir(parents=True, exist_ok=True)
    written = []
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        page = context.new_page()
        page.goto(quiet_site.link("alice"))
        for name in SHOWN:
            open_page(page, quiet_site, name)
            image = page.screenshot(full_page=True, animations="disabled", caret="hide")
            assert len(image) < LARGEST, f"{name}-{width}.png is {len(image):,} bytes"
            write_if_changed(FOLDER / f"{name}-{width}.png", image)
            written.append(f"{name}-{width}.png")
        context.close()
    assert sorted(written) == sorted(p.name for p in FOLDER.glob("*.png")), (
        "docs/portal/screenshots/ holds a screenshot of a page no longer shot"
    )
