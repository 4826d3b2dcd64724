"""The hosted assessment (/assess/KEY) through the real app: a lead answers section by
section, branching leaves a section out, progress resumes (same browser or resume link), a
double submit changes nothing, bad answers are named with nothing stored, and the lead sees a
diagnosis, not a game."""

from __future__ import annotations

import re
from html import unescape

import pytest

from accolade.service.assessment_progress import event_id
from accolade.web.assess.lead import COOKIE, read_lead
from tests.assess.builders import PAGE, answer, hidden, section_of, site_on, start
from tests.assessment_program import ASSESSMENT_PROGRAM
from tests.integration.builders import row_counts

BASICS = {"warehouse_in_place": "has_one", "sources": ["crm", "erp"]}
WAREHOUSE = {"warehouse_size": "250", "team_confidence": "4"}
TIMING = {"timeline": "quarter"}


@pytest.fixture
def site(store):
    with site_on(store) as site:
        yield site


def lead_of(site, client) -> str:
    return read_lead(client.cookies[COOKIE], secret=site.api.client.app.state.context.secret)


def test_a_lead_answers_section_by_section_and_sees_the_diagnosis(site):
    client = site.browser()
    first = start(client)
    assert "Section 1 of 3" in first and '<progress max="3" value="1"' in first
    second = answer(client, first, BASICS)
    assert (second.status_code, section_of(second.text)) == (200, "warehouse")
    assert "Section 2 of 3" in second.text
    third = answer(client, second.text, WAREHOUSE)
    assert "Section 3 of 3" in third.text and "See my result" in third.text
    done = answer(client, third.text, TIMING)
    assert done.status_code == 200, done.text
    assert "Your result: Ready" in done.text
    assert "21 of" in done.text  # the total, against the most the questions can give
    assert re.search(r"Data maturity: <strong>7 of \d+</strong>", done.text)
    assert "Ready to buy" in done.text and "Migration checklist" in done.text
    # a diagnosis for the lead: not the sales note, not points they were never promised
    assert "scored 21" not in done.text and "Points" not in done.text
    result = site.result(lead_of(site, client))
    assert (result["total"], result["level"], result["segment"]) == (21, "ready", "hot")


def test_an_answer_that_skips_a_section_leaves_it_out_of_the_pages(site):
    client = site.browser()
    first = start(client)
    after = answer(client, first, {"warehouse_in_place": "none", "sources": ["web"]})
    assert section_of(after.text) == "timing"
    assert "Section 2 of 2" in after.text and '<progress max="2" value="2"' in after.text
    done = answer(client, after.text, {"timeline": "later"})
    assert "Your result: Early" in done.text
    assert site.result(lead_of(site, client))["segment"] == "education"


def test_coming_back_resumes_at_the_first_unanswered_section_with_answers_filled_in(site):
    client = site.browser()
    answer(client, start(client), BASICS)
    again = client.get(PAGE)
    assert section_of(again.text) == "warehouse"
    back = client.get(f"{PAGE}?section=basics")
    assert re.search(r'value="has_one" checked', back.text)
    assert re.search(r'value="crm" checked', back.text) and re.search(
        r'value="erp" checked', back.text
    )
    assert not re.search(r'value="web" checked', back.text)


def test_the_resume_link_continues_on_another_device(site):
    client = site.browser()
    second = answer(client, start(client), BASICS).text
    link = re.search(r'href="http://testserver(/assess/readiness\?lead=[^"]+)"', second)
    assert link, "the page shows no resume link"
    other = site.browser()
    opened = other.get(link.group(1), follow_redirects=False)
    assert (opened.status_code, opened.headers["location"]) == (303, PAGE)
    assert lead_of(site, other) == lead_of(site, client)
    page = other.get(PAGE)
    assert section_of(page.text) == "warehouse"
    done = answer(other, answer(other, page.text, WAREHOUSE).text, TIMING)
    assert "Your result: Ready" in done.text


def test_a_forged_resume_link_is_refused(site):
    refused = site.browser().get(f"{PAGE}?lead=lt_eyJsIjoieCJ9.AAAA")
    assert refused.status_code == 401
    assert "not valid" in refused.text and "<html" in refused.text


def test_a_double_submit_changes_nothing(site):
    client = site.browser()
    first = start(client)
    answer(client, first, BASICS)
    before = row_counts(site.api.store)
    again = answer(client, first, BASICS)  # the same form, posted again
    assert section_of(again.text) == "warehouse"
    assert row_counts(site.api.store) == before


def test_a_changed_answer_is_sent_again_and_counts(site):
    client = site.browser()
    first = start(client)
    answer(client, first, BASICS)
    back = client.get(f"{PAGE}?section=basics")
    after = answer(client, back.text, {"warehouse_in_place": "none", "sources": ["crm", "erp"]})
    assert section_of(after.text) == "timing"  # the warehouse section is skipped now


@pytest.mark.parametrize(
    ("answers", "question", "says"),
    [
        (
            {"warehouse_in_place": "maybe", "sources": ["crm"]},
            "Do you run a data warehouse?",
            "unknown option 'maybe'",
        ),
        ({"sources": ["crm"]}, "Do you run a data warehouse?", "an answer is required"),
        (
            {"warehouse_in_place": "has_one", "sources": ["crm", "fax"]},
            "Which sources do you load?",
            "unknown option 'fax'",
        ),
    ],
)
def test_a_bad_answer_is_a_422_naming_the_question_and_stores_nothing(
    site, answers, question, says
):
    client = site.browser()
    first = start(client)
    before = row_counts(site.api.store)
    refused = answer(client, first, answers)
    assert refused.status_code == 422, refused.text
    assert 'class="error-summary"' in refused.text
    text = unescape(refused.text)
    assert f"{question}: " in text and says in text
    assert "Error:" in refused.text.split("<title>")[1].split("</title>")[0]
    assert row_counts(site.api.store) == before


def test_a_number_out_of_range_and_a_missing_answer_are_both_named(site):
    client = site.browser()
    second = answer(client, start(client), BASICS).text
    before = row_counts(site.api.store)
    refused = answer(client, second, {"warehouse_size": "20000"})
    assert refused.status_code == 422
    summary = refused.text.split('id="error-summary"')[1].split("</div>")[0]
    assert 'href="#q-warehouse_size-input"' in summary and "20000 is out of range" in summary
    assert 'href="#q-team_confidence-0"' in summary and "an answer is required" in summary
    assert 'value="20000"' in refused.text  # what the lead typed stays, to be corrected
    assert 'aria-describedby="q-warehouse_size-error"' in refused.text
    assert row_counts(site.api.store) == before


def test_answering_after_completion_is_a_409_and_changes_nothing(site):
    client = site.browser()
    first = start(client)
    second = answer(client, first, BASICS).text
    third = answer(client, second, WAREHOUSE).text
    answer(client, third, TIMING)
    before = row_counts(site.api.store)
    late = answer(client, first, {"warehouse_in_place": "none", "sources": ["web"]})
    assert late.status_code == 409, late.text
    assert "completed" in late.text and "Your result: Ready" in late.text
    assert row_counts(site.api.store) == before


def test_a_post_without_the_csrf_token_stores_nothing(site):
    client = site.browser()
    first = start(client)
    before = row_counts(site.api.store)
    data = {**hidden(first), "csrf": "forged", "q.warehouse_in_place": "has_one"}
    refused = client.post(PAGE, data=data)
    assert refused.status_code == 401 and "another site" in refused.text
    assert (
        site.browser().post(f"{PAGE}/start", data={"csrf": hidden(first)["csrf"]}).status_code
        == 401
    )
    assert row_counts(site.api.store) == before


def test_the_email_given_at_start_is_the_leads_attribute_set_by_the_started_event(site):
    client = site.browser()
    page = client.get(PAGE)
    refused = client.post(f"{PAGE}/start", data={**hidden(page.text), "email": "not-an-email"})
    assert refused.status_code == 422 and "is not an email address" in refused.text
    assert 'href="#email"' in refused.text
    start(client, email="Ann@Example.com")
    started = event_id("diag", lead_of(site, client), "readiness", "started")
    headers = site.api.key("events:write", program="diag")
    got = site.api.client.get(f"/v1/events/{started}", headers=headers)
    assert got.status_code == 200, got.text
    assert got.json()["body"]["attributes"] == {"email": "ann@example.com"}


def test_the_lead_cookie_is_http_only_and_same_site_lax(site):
    opened = site.browser().get(PAGE)
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=lt_")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/assess" in cookie


def test_the_page_may_be_framed_by_its_own_site_by_default(site):
    opened = site.browser().get(PAGE)
    assert "frame-ancestors 'self'" in opened.headers["content-security-policy"]
    assert "x-frame-options" not in opened.headers


def test_the_page_may_be_framed_by_the_landing_pages_the_settings_name(store):
    with site_on(store, assess_frame_ancestors="'self' https://www.example.com") as site:
        opened = site.browser().get(PAGE)
        policy = opened.headers["content-security-policy"]
        assert "frame-ancestors 'self' https://www.example.com" in policy
        cookie = opened.headers["set-cookie"]
        assert "SameSite=none" in cookie and "Secure" in cookie


def test_an_unknown_assessment_is_a_404_page(site):
    missing = site.browser().get("/assess/nothing_here")
    assert missing.status_code == 404
    assert "no assessment 'nothing_here'" in unescape(missing.text)


def test_points_are_shown_only_when_the_program_pays_for_the_assessment(store):
    paying = ASSESSMENT_PROGRAM.replace(
        "actions:\n",
        "actions:\n  - key: diagnosed\n    event: assessment.completed\n    points: 15\n",
        1,
    )
    with site_on(store) as site:
        from accolade.service.programs import publish
        from tests.integration.builders import clock_at

        publish(store, paying, clock=clock_at())
        client = site.browser()
        second = answer(client, start(client), BASICS).text
        done = answer(client, answer(client, second, WAREHOUSE).text, TIMING)
        assert "You have 15 points." in done.text


@pytest.mark.parametrize(("typed", "stored"), [("1,000", 1000), ("2.5", 2.5), ("40", 40)])
def test_a_number_is_read_as_people_type_it(site, typed, stored):
    client = site.browser()
    second = answer(client, start(client), BASICS).text
    answer(client, second, {"warehouse_size": typed, "team_confidence": "3"})
    back = client.get(f"{PAGE}?section=warehouse")
    assert f'value="{stored}"' in back.text


def test_a_number_written_with_a_decimal_comma_is_refused(site):
    client = site.browser()
    second = answer(client, start(client), BASICS).text
    refused = answer(client, second, {"warehouse_size": "2,5", "team_confidence": "3"})
    assert refused.status_code == 422 and "is not a number" in unescape(refused.text)
