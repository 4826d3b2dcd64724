"""The portal without a mouse: the skip link, the menu and every form's button reached with Tab
and used with Enter, each showing where the focus is."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.site import Site, event

MOST_TABS = 60  # more stops than any page has before the element a test looks for


def focused_text(page: Page) -> str:
    """What the focused element reads, its whitespace folded."""
    return " ".join(str(page.evaluate("document.activeElement.innerText || ''")).split())


def tab_to(page: Page, text: str) -> None:
    """Press Tab until the focus is on the link or button that reads ``text``."""
    seen = []
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        seen.append(focused_text(page))
        if seen[-1] == text:
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"{text!r} has the focus but shows no outline"
            return
    raise AssertionError(f"Tab never reached {text!r}; the focus went through {seen}")


def test_the_skip_link_comes_first_and_moves_to_the_content(site: Site, page: Page):
    page.goto(site.link("alice"))
    page.keyboard.press("Tab")
    assert focused_text(page) == "Skip to content"
    expect(page.locator(".skip")).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_the_menu_is_reached_with_tab_and_followed_with_enter(site: Site, page: Page):
    page.goto(site.link("alice"))
    tab_to(page, "History")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/portal/history")
    expect(page.locator("h1")).to_have_text("History")
    expect(page.locator('nav a[aria-current="page"]')).to_have_text("History")


def test_a_form_button_is_pressed_with_enter(site: Site, page: Page):
    page.goto(site.link("alice"))
    tab_to(page, "Sign out")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/portal/signed-out")
    expect(page.locator("h1")).to_have_text("You are signed out")


def test_a_reward_is_redeemed_with_the_keyboard_alone(site: Site, page: Page):
    site.send(event("hal-deal", "deal.won", "hal", amount_usd=60_000))  # 600 points
    page.goto(site.link("hal"))
    tab_to(page, "Rewards")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/portal/rewards")
    tab_to(page, "Redeem 25 USD gift card")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/portal/rewards/gift_card/redeem")
    tab_to(page, "Redeem for 500 points")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/portal/rewards?*")
    expect(page.locator("[role=status]")).to_contain_text("You redeemed 25 USD gift card")
    expect(page.locator("#balance")).to_have_text("100")
