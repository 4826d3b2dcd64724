"""The program pages in chromium, on each database: an admin edits a draft with an error, sees it
at its path (as they type and on Validate), fixes it, simulates it, saves it, publishes it with
notes and rolls back, and the audit page lists each step; a viewer sees no Publish or Roll back
button, and the endpoints refuse them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accolade.program.loader import load_program
from accolade.store.database import make_engine
from accolade.store.unit_of_work import Store
from tests.browser.conftest import PHONE
from tests.browser.console_site import console_user, every_violation, sign_in
from tests.browser.site import Site, serve
from tests.integration.conftest import postgres_engine, postgres_url, require_postgres

QUIZ = "    points: 100\n"  # the points of the site's program's quiz_passed


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    """A site of its own on each database: the journey publishes and rolls back, which the
    session's shared sites must not see."""
    if request.param == "sqlite":
        path = tmp_path / "accolade.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        store = Store(make_engine("sqlite:///" + str(path)))
        try:
            with serve(store) as site:
                yield site
        finally:
            store.close()
        return
    require_postgres()
    pool = request.getfixturevalue("postgres_schemas")
    schema, engine = pool.take()
    store = Store(engine)
    try:
        with serve(store) as site:
            yield site
    finally:
        store.close()
        pool.give_back(schema, postgres_engine(postgres_url(), schema))


def test_an_admin_edits_simulates_publishes_and_rolls_back(fresh_site: Site, page: Page):
    site = fresh_site
    email = console_user(site, "ana@example.com", "admin")
    sign_in(page, site, email)
    page.goto(f"{site.url}/console/program/draft")
    editor = page.get_by_label("Program file (YAML)")
    source = editor.input_value()
    assert QUIZ in source
    line = source[: source.index(QUIZ)].count("\n") + 1
    keys = [action.key for action in load_program(source).actions]
    path = f"actions[{keys.index('quiz_passed')}].points"

    # an error: shown as it is typed (the page's script), then by Validate (no script needed)
    editor.fill(source.replace(QUIZ, "    points: lots\n", 1))
    expect(page.locator("#live-problems")).to_contain_text(path)
    with page.expect_response(lambda r: r.url.endswith("/draft/validate")) as answer:
        page.get_by_role("button", name="Validate").click()
    assert answer.value.status == 422
    problems = page.locator("#problems")
    expect(problems).to_contain_text(path)
    expect(problems).to_contain_text(f"line {line}: must be a whole number")
    assert not every_violation(page), "\n".join(every_violation(page))

    # fixed, simulated over the log: quizzes are worth more
    editor.fill(source.replace(QUIZ, "    points: 150\n", 1))
    page.get_by_role("button", name="Simulate").click()
    expect(page.get_by_role("heading", name="Simulation over the event log")).to_be_visible()
    expect(page.get_by_role("rowheader", name="action:quiz_passed")).to_be_visible()
    expect(page.locator("#problems")).to_have_count(0)
    assert not every_violation(page), "\n".join(every_violation(page))

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("The draft was saved.")

    page.get_by_label("Release notes").fill("Quizzes are worth 150 points")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("The version was published")
    row = page.locator("#version-2")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("Quizzes are worth 150 points")
    expect(row).to_contain_text(email)

    page.get_by_label("Why (release notes)").fill("Too generous: back to 100")
    page.get_by_role("button", name="Roll back").click()
    expect(page.get_by_role("status")).to_contain_text("rolled back")
    expect(page.locator("#version-1")).to_contain_text("active")
    expect(page.locator("#version-1")).to_contain_text("Too generous: back to 100")

    page.goto(f"{site.url}/console/audit")
    for action in ("program.draft_saved", "program.published", "program.rolled_back"):
        expect(page.get_by_text(action, exact=True)).to_have_count(1)


def test_a_viewer_cannot_publish_or_roll_back(fresh_site: Site, page: Page):
    site = fresh_site
    email = console_user(site, "vic@example.com", "viewer")
    sign_in(page, site, email)

    page.goto(f"{site.url}/console/program")
    expect(page.get_by_role("heading", name="Versions", exact=True)).to_be_visible()
    for name in ("Publish", "Roll back"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    page.goto(f"{site.url}/console/program/draft")
    expect(page.get_by_role("button", name="Validate")).to_be_visible()
    for name in ("Simulate", "Save draft"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)

    csrf = page.locator('input[name="csrf"]').first.get_attribute("value")
    assert csrf
    for path, form in [("publish", {"version": "1"}), ("rollback", {})]:
        refused = page.request.post(
            f"{site.url}/console/program/{path}", form={**form, "csrf": csrf}
        )
        assert refused.status == 403, path
    page.goto(f"{site.url}/console/audit")
    expect(page.get_by_text("program.published", exact=True)).to_have_count(0)


def test_the_draft_editor_reads_at_a_phones_width(fresh_site: Site, page: Page):
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    sign_in(page, fresh_site, console_user(fresh_site, "ana@example.com", "admin"))
    page.goto(f"{fresh_site.url}/console/program/draft")

    page.get_by_role("button", name="Simulate").click()

    expect(page.get_by_role("heading", name="Simulation over the event log")).to_be_visible()
    assert not every_violation(page), "\n".join(every_violation(page))
