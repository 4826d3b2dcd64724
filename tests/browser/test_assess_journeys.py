"""The hosted assessment (/assess/KEY) in chromium, on a server of its own: a lead starts,
leaves midway and resumes (in the same browser, and on another device through the resume
link), and reads the diagnosis; the same without JavaScript; axe-core on every kind of page
(start, section, errors, diagnosis) and nothing wider than 320 pixels."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from accolade.service.programs import publish
from accolade.store.database import make_engine
from accolade.store.unit_of_work import Store
from tests.assessment_program import ASSESSMENT_PROGRAM
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.site import Site, serve
from tests.browser.test_portal_accessibility import violations

PAGE = "/assess/readiness"


@pytest.fixture(scope="module")
def assess_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The app on a SQLite database of its own, with the diagnostics program published."""
    path = tmp_path_factory.mktemp("assess") / "accolade.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    store = Store(make_engine("sqlite:///" + str(path)))
    try:
        with serve(store) as site:
            publish(store, ASSESSMENT_PROGRAM, clock=site.clock)
            yield site
    finally:
        store.close()


def no_violation(page: Page) -> None:
    found = violations(page)
    assert not found, f"{page.url}:\n" + "\n".join(found)


def answer_basics(page: Page) -> None:
    page.get_by_label("Yes", exact=True).check()
    page.get_by_label("CRM", exact=True).check()
    page.get_by_label("ERP", exact=True).check()
    page.get_by_role("button", name="Continue").click()


def answer_warehouse(page: Page) -> None:
    page.get_by_label("How many terabytes does it hold?").fill("250")
    page.get_by_label("4", exact=True).check()
    page.get_by_role("button", name="Continue").click()


def finish(page: Page) -> None:
    page.get_by_label("This quarter", exact=True).check()
    page.get_by_role("button", name="See my result").click()


def expect_diagnosis(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Your result: Ready")
    expect(page.get_by_text("Ready to buy")).to_be_visible()
    expect(page.get_by_text("Migration checklist")).to_be_visible()
    expect(page.locator("meter")).to_have_count(3)
    assert "scored 21" not in page.content()  # the sales note is the sales team's


def test_a_lead_leaves_midway_resumes_on_another_device_and_reads_the_diagnosis(
    assess_site: Site, browser: Browser
):
    first = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    page = first.new_page()
    page.goto(assess_site.url + PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Data readiness")
    no_violation(page)
    page.get_by_label("Your work e-mail").fill("ann@example.com")
    page.get_by_role("button", name="Start the assessment").click()
    expect(page.get_by_text("Section 1 of 3")).to_be_visible()
    expect(page.locator("progress")).to_have_attribute("value", "1")
    no_violation(page)
    answer_basics(page)
    expect(page.get_by_text("Section 2 of 3")).to_be_visible()
    no_violation(page)

    # away and back in the same browser: the first section still to answer
    page.goto("about:blank")
    page.goto(assess_site.url + PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your warehouse")
    page.get_by_label("How many terabytes does it hold?").fill("250")
    resume = page.locator(".resume a").get_attribute("href")
    assert resume and "?lead=lt_" in resume
    first.close()  # the lead leaves with the warehouse section unsent

    second = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    try:
        page = second.new_page()
        page.goto(resume)
        expect(page.get_by_text("Section 2 of 3")).to_be_visible()
        assert "lead=" not in page.url  # the link's token left the address bar
        page.get_by_role("link", name="Back to the previous section").click()
        expect(page.get_by_label("Yes", exact=True)).to_be_checked()  # earlier answers kept
        expect(page.get_by_label("ERP", exact=True)).to_be_checked()
        page.get_by_role("button", name="Continue").click()
        answer_warehouse(page)
        expect(page.get_by_text("Section 3 of 3")).to_be_visible()
        finish(page)
        expect_diagnosis(page)
        no_violation(page)
    finally:
        second.close()


def test_a_bad_answer_is_named_in_an_error_summary_that_links_to_the_question(
    assess_site: Site, page: Page
):
    page.goto(assess_site.url + PAGE)
    page.get_by_role("button", name="Start the assessment").click()
    page.get_by_label("CRM", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Do you run a data warehouse?: an answer is required")
    assert page.title().startswith("Error:")
    no_violation(page)
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Yes", exact=True)).to_be_focused()
    expect(page.get_by_label("CRM", exact=True)).to_be_checked()  # what was given stays


def test_the_whole_assessment_works_without_javascript(assess_site: Site, browser: Browser):
    context: BrowserContext = browser.new_context(java_script_enabled=False, viewport=DESKTOP)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.goto(assess_site.url + PAGE)
        page.get_by_role("button", name="Start the assessment").click()
        answer_basics(page)
        answer_warehouse(page)
        finish(page)
        expect_diagnosis(page)
    finally:
        context.close()


def test_no_assessment_page_scrolls_sideways_at_320_pixels(assess_site: Site, page: Page):
    page.set_viewport_size({"width": 320, "height": 800})
    wide = []

    def measure(name: str, shown: str) -> None:
        # the page a click leads to, loaded: measured mid-navigation, there is no document
        expect(page.get_by_text(shown).first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            wide.append(f"{name} is {width} pixels wide")

    page.goto(assess_site.url + PAGE)
    measure("start", "Start the assessment")
    page.get_by_role("button", name="Start the assessment").click()
    measure("basics", "Section 1 of 3")
    answer_basics(page)
    measure("warehouse", "Section 2 of 3")
    answer_warehouse(page)
    finish(page)
    measure("diagnosis", "Your result: Ready")
    assert not wide, "\n".join(wide)
