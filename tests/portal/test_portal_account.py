"""The portal's account pages through the real app, on SQLite and PostgreSQL: history and its
explanations, the rewards catalogue and redeeming, referrals, and reference requests. Each
page shows what the member holds; a bad form names its field and stores nothing; a member
never sees another member's entries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from accolade.service import references
from tests.e2e.builders import Api
from tests.integration.builders import publish_demo, row_counts
from tests.portal.builders import Portal, csrf_of, portal_on

SOURCE = (Path(__file__).parents[2] / "examples" / "rewards.yaml").read_text()
KEY = "advocates_store"
ATTEMPT = re.compile(r'name="attempt" value="([^"]+)"')


def posted(id: str, member: str, day: int, type: str = "review.posted") -> dict[str, Any]:
    return {
        "id": id,
        "type": type,
        "member": member,
        "occurred_at": f"2026-05-{day:02d}T10:00:00Z",
        "properties": {"site": "g2"},
    }


def rewards_portal(api: Api) -> Portal:
    """The rewards example published beside the demo program, with a key of its own."""
    publish_demo(api.store, SOURCE)
    return Portal(api, api.key(program=KEY))


@pytest.fixture
def portal(store):
    with portal_on(store) as partner:
        portal = rewards_portal(partner.api)
        portal.send(
            posted("r1", "alice", 10),
            posted("s1", "alice", 12, "story.submitted"),
            posted("r2", "alice", 14),
            posted("b1", "bob", 14),
        )  # alice 4,500 points, bob 1,000
        yield portal


def attempt_of(html: str) -> str:
    found = ATTEMPT.search(html)
    assert found, "the page has no form with an attempt token"
    return found.group(1)


def balance_of(html: str) -> int:
    found = re.search(r'id="balance">([\d,]+)<', html)
    assert found, "the page shows no balance"
    return int(found.group(1).replace(",", ""))


def entry_links(html: str) -> list[str]:
    return re.findall(r'href="(/portal/history/\d+)"', html)


# --- history --------------------------------------------------------------------------------


def test_history_lists_every_entry_newest_first_with_its_reason(portal):
    page = portal.browser("alice").get("/portal/history")
    assert page.status_code == 200
    assert '<th scope="col">' in page.text
    assert len(entry_links(page.text)) == 4  # three earned, and the first tier
    assert page.text.index("10 May 2026") > page.text.index("14 May 2026")  # newest first
    assert "+2,500" in page.text and "story_submitted" in page.text


def test_history_filters_by_rule_and_by_days(portal):
    alice = portal.browser("alice")
    stories = alice.get("/portal/history", params={"rule": "action:story_submitted"}).text
    assert len(entry_links(stories)) == 1 and "+2,500" in stories
    one_day = alice.get(
        "/portal/history", params={"from_day": "2026-05-14", "to_day": "2026-05-14"}
    )
    assert len(entry_links(one_day.text)) == 1
    assert "+1,000" in one_day.text
    assert 'value="2026-05-14"' in one_day.text  # the filter is kept in its form
    none = alice.get("/portal/history", params={"kind": "refund"}).text
    assert "No entry matches this filter." in none


def test_a_bad_filter_is_named_beside_its_field(portal):
    alice = portal.browser("alice")
    bad = alice.get("/portal/history", params={"from_day": "14/05/2026", "to_day": ""})
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text and "From: &#39;14/05/2026&#39; is not a date" in bad.text
    assert re.search(
        r'id="from_day"[^>]*aria-invalid="true" aria-describedby="form-error"', bad.text
    )
    backwards = alice.get(
        "/portal/history", params={"from_day": "2026-05-14", "to_day": "2026-05-01"}
    )
    assert backwards.status_code == 422 and "To: must not be before 2026-05-14" in backwards.text


def test_history_pages_through_older_entries(portal):
    portal.send(*(posted(f"c{i}", "carol", 1 + i % 28) for i in range(30)))
    carol = portal.browser("carol")
    first = carol.get("/portal/history").text
    assert len(entry_links(first)) == 25
    older = re.search(r'href="(/portal/history\?before=\d+)">Older entries', first)
    assert older
    rest = carol.get(older.group(1).replace("&amp;", "&")).text
    assert len(entry_links(rest)) > 0
    assert not set(entry_links(first)) & set(entry_links(rest))


def test_an_entry_is_explained_from_event_to_rule_to_points_to_version(portal):
    alice = portal.browser("alice")
    stories = alice.get("/portal/history", params={"rule": "action:story_submitted"}).text
    [link] = entry_links(stories)
    page = alice.get(link)
    assert page.status_code == 200
    for shown in ("s1", "story.submitted", "12 May 2026", "site", "g2", "action:story_submitted"):
        assert shown in page.text, shown
    assert 'id="entry-points">+2,500<' in page.text
    assert "Worked out by version 1 of the program." in page.text


def test_another_members_entry_is_a_not_found_page(portal):
    [bobs] = entry_links(portal.browser("bob").get("/portal/history").text)[:1]
    seen = portal.browser("alice").get(bobs)
    assert seen.status_code == 404
    assert seen.headers["content-type"].startswith("text/html")
    assert "Not found" in seen.text and "g2" not in seen.text


# --- rewards --------------------------------------------------------------------------------


def test_the_catalogue_shows_price_stock_approval_and_why_not(portal):
    page = portal.browser("alice").get("/portal/rewards")
    assert page.status_code == 200
    assert balance_of(page.text) == 4500
    tshirt = page.text.split('id="reward-tshirt"')[1].split("</li>")[0]
    assert "1,500 points" in tshirt and "200 left" in tshirt and "worth 18.00 EUR" in tshirt
    assert 'href="/portal/rewards/tshirt/redeem"' in tshirt
    slot = page.text.split('id="reward-speaker_slot"')[1].split("</li>")[0]
    assert "needs approval" in slot and "only for the Gold or Platinum tier" in slot
    assert "/redeem" not in slot
    bobs = portal.browser("bob").get("/portal/rewards").text
    credit = bobs.split('id="reward-software_credit"')[1].split("</li>")[0]
    assert "needs 4,000 points; 1,000 can be spent now" in credit
    assert "You have not redeemed anything yet." in bobs


def test_redeeming_drops_the_balance_and_shows_the_code(portal):
    added = portal.api.client.post(
        "/v1/rewards/gift_card/codes", json={"codes": ["GIFT-AAA-111"]}, headers=portal.writer
    )
    assert added.status_code == 200, added.text
    alice = portal.browser("alice")
    confirm = alice.get("/portal/rewards/gift_card/redeem")
    assert confirm.status_code == 200
    assert 'id="balance">4,500<' in confirm.text and 'id="balance-after">2,000<' in confirm.text
    done = alice.post(
        "/portal/rewards/gift_card/redeem",
        data={"csrf": csrf_of(confirm.text), "attempt": attempt_of(confirm.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith("/portal/rewards?redeemed=rdm_")
    page = alice.get(done.headers["location"]).text
    assert balance_of(page) == 2000
    assert "You redeemed 25 EUR gift card." in page and "GIFT-AAA-111" in page
    assert "Fulfilled" in page
    assert balance_of(alice.get("/portal/").text) == 2000


def test_a_double_submit_redeems_once(portal):
    alice = portal.browser("alice")
    confirm = alice.get("/portal/rewards/trees/redeem").text
    form = {"csrf": csrf_of(confirm), "attempt": attempt_of(confirm)}
    first = alice.post("/portal/rewards/trees/redeem", data=form, follow_redirects=False)
    again = alice.post("/portal/rewards/trees/redeem", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    page = alice.get("/portal/rewards").text
    assert balance_of(page) == 3500
    assert row_counts(portal.api.store)["redemptions"] == 1


def test_an_unaffordable_item_is_refused_with_the_reason_and_nothing_stored(portal):
    bob = portal.browser("bob")
    confirm = bob.get("/portal/rewards/software_credit/redeem")
    assert confirm.status_code == 200
    assert "needs 4,000 points; 1,000 can be spent now" in confirm.text
    assert 'name="attempt"' not in confirm.text  # no button to press
    before = row_counts(portal.api.store)
    refused = bob.post(
        "/portal/rewards/software_credit/redeem",
        data={"csrf": csrf_of(confirm.text), "attempt": "a" * 22},
    )
    assert refused.status_code == 409
    assert 'role="alert"' in refused.text
    assert (
        "&#39;software_credit&#39; costs 4,000 points; bob&#39;s balance is 1,000" in refused.text
    )
    assert row_counts(portal.api.store) == before


def test_an_item_not_in_the_catalogue_is_a_not_found_page(portal):
    assert portal.browser("alice").get("/portal/rewards/yacht/redeem").status_code == 404


# --- referrals ------------------------------------------------------------------------------


def test_a_referral_is_submitted_and_listed_with_its_stage_and_points(portal):
    alice = portal.browser("alice")
    form_page = alice.get("/portal/referrals")
    assert "You have not referred anyone yet." in form_page.text
    assert '<label for="prospect">' in form_page.text
    sent = alice.post(
        "/portal/referrals",
        data={
            "csrf": csrf_of(form_page.text),
            "attempt": attempt_of(form_page.text),
            "prospect": "Acme Inc.",
            "contact_name": "Jo Buyer",
            "contact_email": "jo@acme.com",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    page = alice.get(sent.headers["location"]).text
    assert "Thank you: Acme Inc. is submitted." in page
    row = page.split("Acme Inc.")[2].split("</tr>")[0]  # the table's row (the notice first)
    assert "Jo Buyer" in row and "jo@acme.com" in row and "Submitted" in row
    assert '<td class="num">100</td>' in row  # referral.submitted pays 100


def test_a_referrals_deal_value_and_points_follow_the_crm(portal):
    alice = portal.browser("alice")
    form_page = alice.get("/portal/referrals").text
    sent = alice.post(
        "/portal/referrals",
        data={"csrf": csrf_of(form_page), "attempt": attempt_of(form_page), "prospect": "Globex"},
        follow_redirects=False,
    )
    rid = sent.headers["location"].split("submitted=")[1]
    won = portal.api.client.post(
        f"/v1/referrals/{rid}/win",
        json={"amount": "20000", "currency": "EUR"},
        headers=portal.writer,
    )
    assert won.status_code == 200, won.text
    page = alice.get("/portal/referrals").text
    assert "Won" in page and "20,000.00 EUR" in page
    assert '<td class="num">800</td>' in page  # 100 + 500 qualified + 1% of the deal


def test_a_bad_referral_field_is_named_and_nothing_stored(portal):
    alice = portal.browser("alice")
    form_page = alice.get("/portal/referrals").text
    before = row_counts(portal.api.store)
    bad = alice.post(
        "/portal/referrals",
        data={
            "csrf": csrf_of(form_page),
            "attempt": attempt_of(form_page),
            "prospect": "Acme",
            "contact_email": "not-an-address",
        },
    )
    assert bad.status_code == 422
    assert "Contact e-mail: &#39;not-an-address&#39; is not an e-mail address" in bad.text
    assert re.search(
        r'id="contact_email"[^>]*aria-invalid="true" aria-describedby="form-error"', bad.text
    )
    assert 'value="Acme"' in bad.text  # what was typed is kept
    empty = alice.post(
        "/portal/referrals", data={"csrf": csrf_of(form_page), "attempt": attempt_of(form_page)}
    )
    assert empty.status_code == 422 and "Company: must not be empty" in empty.text
    assert row_counts(portal.api.store) == before


# --- references -----------------------------------------------------------------------------


def ask(portal: Portal, request_id: str, *members: str) -> None:
    store, clock = portal.api.store, portal.api.clock
    references.request(
        store, KEY, {}, requested_by="rep@acme.com", note="A call about onboarding",
        request_id=request_id, clock=clock,
    )  # fmt: skip
    references.ask(store, KEY, request_id, list(members), clock=clock)


def test_a_member_accepts_a_reference_request(portal):
    ask(portal, "rr-1", "alice")
    alice = portal.browser("alice")
    page = alice.get("/portal/references").text
    assert "From rep@acme.com" in page and "A call about onboarding" in page
    assert "Waiting for your answer" in page
    done = alice.post(
        "/portal/references/rr-1/answer",
        data={"csrf": csrf_of(page), "answer": "accept"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = alice.get(done.headers["location"]).text
    assert "Thank you: you accepted." in after and "Accepted" in after
    assert 'value="accept"' not in after
    [made] = references.reference_request(portal.api.store, KEY, "rr-1").asks
    assert made.status == "accepted"


def test_a_member_declines_and_cannot_answer_twice(portal):
    ask(portal, "rr-2", "alice")
    alice = portal.browser("alice")
    token = csrf_of(alice.get("/portal/references").text)
    declined = alice.post(
        "/portal/references/rr-2/answer", data={"csrf": token, "answer": "decline"}
    )
    assert declined.status_code == 200 and "Done: you declined." in declined.text
    again = alice.post("/portal/references/rr-2/answer", data={"csrf": token, "answer": "accept"})
    assert again.status_code == 409 and 'role="alert"' in again.text
    assert "accept needs it asked" in again.text


def test_a_member_cannot_answer_a_request_they_were_not_asked(portal):
    ask(portal, "rr-3", "alice")
    bob = portal.browser("bob")
    token = csrf_of(bob.get("/portal/references").text)
    assert "Nobody has asked you for a reference yet." in bob.get("/portal/references").text
    refused = bob.post("/portal/references/rr-3/answer", data={"csrf": token, "answer": "accept"})
    assert refused.status_code == 404
    [made] = references.reference_request(portal.api.store, KEY, "rr-3").asks
    assert made.status == "asked"


def test_a_member_opts_out_of_reference_requests_and_back_in(portal):
    bob = portal.browser("bob")
    page = bob.get("/portal/references").text
    out = bob.post("/portal/references/opt-out", data={"csrf": csrf_of(page), "choice": "out"})
    assert out.status_code == 200
    assert "Done: you will not be asked for references." in out.text
    assert references.asks_of(portal.api.store, KEY, "bob").opted_out
    back = bob.post("/portal/references/opt-out", data={"csrf": csrf_of(page), "choice": "in"})
    assert "Done: you may be asked for references again." in back.text
    assert not references.asks_of(portal.api.store, KEY, "bob").opted_out


def test_a_program_without_references_has_no_opt_out(store):
    with portal_on(store) as portal:
        portal.send({"id": "p", "type": "profile.completed", "member": "dan",
                     "occurred_at": "2026-05-01T14:00:00Z"})  # fmt: skip
        dan = portal.browser("dan")
        page = dan.get("/portal/references")
        assert page.status_code == 200 and "opt-out" not in page.text
        refused = dan.post(
            "/portal/references/opt-out", data={"csrf": csrf_of(page.text), "choice": "out"}
        )
        assert refused.status_code == 404


# --- forms without their token --------------------------------------------------------------


@pytest.mark.parametrize(
    "path, form",
    [
        ("/portal/rewards/trees/redeem", {"attempt": "b" * 22}),
        ("/portal/referrals", {"attempt": "b" * 22, "prospect": "Initech"}),
        ("/portal/references/rr-9/answer", {"answer": "accept"}),
        ("/portal/references/opt-out", {"choice": "out"}),
    ],
    ids=["redeem", "referral", "answer", "opt-out"],
)
def test_a_form_without_its_csrf_token_or_with_anothers_is_refused(portal, path, form):
    ask(portal, "rr-9", "alice")
    alice, bob = portal.browser("alice"), portal.browser("bob")
    bobs_token = csrf_of(bob.get("/portal/").text)
    before = row_counts(portal.api.store)
    assert alice.post(path, data=form).status_code == 401
    assert alice.post(path, data={**form, "csrf": bobs_token}).status_code == 401
    assert alice.post(path, data={**form, "csrf": "x" * 40}).status_code == 401
    assert row_counts(portal.api.store) == before
