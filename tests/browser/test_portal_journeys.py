"""A member's way through the portal in a real browser: in by their link, progress made in the
host product showing after a reload, and everything that must not get in: another member's
page, a link replayed after it expired."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.browser.site import Site, event


def bar_percent(page: Page, within: str) -> int:
    """The width of the first progress bar's fill inside ``within``: its percentage."""
    fill = page.locator(f"{within} svg.bar .bar-fill").first
    return int(fill.get_attribute("width") or "-1")


def test_a_link_signs_the_member_in_and_leaves_the_address_bar(any_site: Site, page: Page):
    link = any_site.link("alice")
    page.goto(link)
    assert page.url == f"{any_site.url}/portal/"
    expect(page.locator(".who")).to_have_text("· alice")
    expect(page.locator("#balance")).not_to_be_empty()
    token = link.split("token=")[1]
    assert token not in page.content()
    assert all(c["httpOnly"] for c in page.context.cookies() if c["name"] == "accolade_portal")


def test_a_quest_step_done_in_the_host_product_moves_its_bar_after_a_reload(
    any_site: Site, page: Page
):
    any_site.send(event("erin-profile", "profile.completed", "erin"))
    page.goto(any_site.link("erin"))
    page.goto(f"{any_site.url}/portal/quests")
    quest = "#quest-onboarding"
    before = bar_percent(page, quest)
    assert before == 25
    expect(page.locator(f"{quest} .next")).to_contain_text("Watch a training video")

    # the host product reports the next step while the page is open
    any_site.send(event("erin-video", "video.watched", "erin", duration_seconds=300))
    assert bar_percent(page, quest) == before  # a page does not change by itself
    page.reload()
    assert bar_percent(page, quest) == 50
    expect(page.locator(f"{quest} svg.bar")).to_have_attribute(
        "aria-label", "Partner onboarding: 50%"
    )
    expect(page.locator(f"{quest} .next")).to_contain_text("Pass a certification quiz")


def test_redeeming_a_reward_lowers_the_balance_and_shows_the_code(any_site: Site, page: Page):
    any_site.send(event("gus-deal", "deal.won", "gus", amount_usd=120_000))  # 1,200 points
    page.goto(any_site.link("gus"))
    page.goto(f"{any_site.url}/portal/rewards")
    expect(page.locator("#balance")).to_have_text("1,200")

    page.get_by_role("link", name="Redeem 25 USD gift card").click()
    expect(page.locator("h1")).to_have_text("Redeem 25 USD gift card")
    expect(page.locator("#balance-after")).to_have_text("700")
    page.get_by_role("button", name="Redeem for 500 points").click()

    page.wait_for_url(f"{any_site.url}/portal/rewards?*")
    expect(page.locator("#balance")).to_have_text("700")
    expect(page.locator("[role=status]")).to_contain_text("You redeemed 25 USD gift card")
    code = page.locator("[role=status] .code").inner_text()
    assert code.startswith("GIFT-")
    expect(page.locator("main")).to_contain_text(code)  # and in the list of redemptions
    # the host's API agrees with the page
    assert any_site.api.get("/v1/members/gus").json()["balance"] == 700


def test_a_member_cannot_open_another_members_page(site: Site, page: Page):
    bobs = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        bob = bobs.new_page()
        bob.goto(site.link("bob"))
        bob.goto(f"{site.url}/portal/history")
        bobs_entry = bob.locator('a[href^="/portal/history/"]').first.get_attribute("href")
    finally:
        bobs.close()
    assert bobs_entry

    page.goto(site.link("alice"))
    answer = page.goto(site.url + bobs_entry)
    assert answer is not None and answer.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator("main")).not_to_contain_text("bob")
    # the only member a session reads is its own: no page takes a member from its address
    page.goto(f"{site.url}/portal/?member=bob")
    expect(page.locator(".who")).to_have_text("· alice")
    # and a session cookie is bound to its member: another browser without it is turned away
    other = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        stranger = other.new_page()
        answer = stranger.goto(f"{site.url}/portal/")
        assert answer is not None and answer.status == 401
        expect(stranger.locator("h1")).to_have_text("You are not signed in")
    finally:
        other.close()


def test_a_used_link_cannot_be_replayed_after_it_expires(site: Site, page: Page):
    link = site.link("bob", ttl_seconds=1)
    page.goto(link)
    expect(page.locator(".who")).to_have_text("· bob")

    started = site.clock.now
    site.clock.now += timedelta(seconds=2)  # the injected clock: no test sleeps
    try:
        fresh = page.context.browser.new_context()  # type: ignore[union-attr]
        replayed = fresh.new_page().goto(link)
        assert replayed is not None and replayed.status == 401
        expect(fresh.pages[0].locator("main")).to_contain_text("member token expired")
        expect(fresh.pages[0].locator(".who")).to_have_count(0)
        fresh.close()
        # the session the link opened goes on until its own end
        page.reload()
        expect(page.locator(".who")).to_have_text("· bob")
    finally:
        site.clock.now = started
