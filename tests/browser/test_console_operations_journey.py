"""An operator's day in chromium, on both databases: a member's redemption awaits approval, the
operator approves it (and marks it fulfilled) in the console, the member's portal shows it
fulfilled, and the audit page lists the approval naming the operator."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.console_site import console_user, sign_in
from tests.browser.site import Site, event


def test_an_operator_approves_a_redemption_and_the_portal_shows_it_fulfilled(
    any_site: Site, page: Page
):
    # two big deals (20,000 points each, the most a deal earns): gold, with the points to spend.
    # A member of this test's own: the site lives for the session (hal is the keyboard test's)
    any_site.send(
        event("quinn-deal-1", "deal.won", "quinn", amount_usd=2_000_000),
        event("quinn-deal-2", "deal.won", "quinn", amount_usd=2_000_000),
    )
    any_site.post(
        "/v1/rewards/summit_pass/redemptions", {"member": "quinn", "redemption_id": "quinn-summit"}
    )
    email = console_user(any_site, "olga@example.com", "operator")

    sign_in(page, any_site, email)
    page.goto(f"{any_site.url}/console/operations")
    page.get_by_label("Choose quinn-summit").check()
    page.get_by_role("button", name="Approve the chosen").click()
    expect(page.locator("[role=status]")).to_have_text("The redemptions were approved.")
    page.get_by_label("Choose quinn-summit").check()
    page.get_by_role("button", name="Mark the chosen fulfilled").click()
    expect(page.locator("[role=status]")).to_have_text("The redemptions were marked fulfilled.")

    member = page.context.browser.new_page()  # the member, in a browser of their own
    member.goto(any_site.link("quinn"))
    member.goto(f"{any_site.url}/portal/rewards")
    expect(member.locator("#redemptions")).to_contain_text("Fulfilled")
    member.close()

    page.goto(f"{any_site.url}/console/audit")
    approval = page.locator("tr", has_text="redemption.approved").filter(has_text="quinn-summit")
    expect(approval).to_contain_text(email)
