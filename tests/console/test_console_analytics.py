"""The analytics dashboards on both databases: each table's figures, its CSV and the members
behind each figure are the analytics API's for the same filters; an experiment's arms, lift and
interval are its report's; bad filters are a 4xx page naming the field."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest

from accolade.service import analytics, experiments
from accolade.service.audit import AuditEntry, list_audit
from accolade.web.console import analytics as analytics_pages
from accolade.web.console.web import PROGRAM_COOKIE
from tests.console.builders import console_on, post
from tests.integration.builders import publish_demo
from tests.integration.test_analytics import NOW, setup
from tests.integration.test_experiments import AFTER, EMEA, JULY, PILOT, ev

Q1 = {"from": "2026-01-01", "to": "2026-03-31"}
FILTERS = [{**Q1}, {**Q1, "by": "team"}, {**Q1, "interval": "week"}]


class Tables(HTMLParser):
    """Each table of a page by id: its body's rows, each cell's text, data-value and link."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[dict[str, str | None]]]] = {}
        self.links: list[str] = []
        self._table: str | None = None
        self._body = False
        self._cell: dict[str, str | None] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._table = found.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tbody":
            self._body = True
        elif tag == "tr" and self._body and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._body and self._table is not None:
            self._cell = {"text": "", "value": found.get("data-value"), "link": None}
            self.tables[self._table][-1].append(self._cell)
        elif tag == "a":
            self.links.append(found.get("href") or "")
            if self._cell is not None:
                self._cell["link"] = found.get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "tbody":
            self._body = False
        elif tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell["text"] = (self._cell["text"] or "") + data


def text_of(value: object) -> str:
    return "" if value is None else str(value)


@pytest.fixture
def console(store):
    with console_on(store) as console:
        setup(store)  # the hand-worked log of tests/integration/test_analytics.py
        console.api.clock.now = NOW
        yield console


@pytest.fixture
def viewer(console):
    client = console.browser("viewer")
    client.cookies.set(PROGRAM_COOKIE, "partner", path="/console")
    return client


def api_report(console, metric: str, filters: dict[str, str]) -> dict:
    reader = console.api.key("analytics:read")
    answer = console.api.client.get(f"/v1/analytics/{metric}", params=filters, headers=reader)
    assert answer.status_code == 200, answer.text
    return answer.json()


def figures(viewer, metric: str, filters: dict[str, str]) -> tuple[list[str], Tables]:
    page = viewer.get(f"/console/analytics/{metric}", params=filters)
    assert page.status_code == 200, page.text
    found = Tables(page.text)
    header = page.text.split('<table id="figures">')[1].split("</thead>")[0]
    columns = [c.split('"')[0] for c in header.split('<th scope="col">')[1:]]
    return columns, found


@pytest.mark.parametrize("filters", FILTERS, ids=["quarter", "by-team", "weeks"])
@pytest.mark.parametrize("metric", list(analytics.METRICS))
def test_a_dashboards_table_has_the_apis_figures(console, viewer, metric, filters):
    if metric in ("engagement", "completion") and "by" in filters:
        pytest.skip("per mechanic: no segments")
    expected = api_report(console, metric, filters)

    _, page = figures(viewer, metric, filters)

    table = page.tables["figures"]
    columns = analytics_pages.DIMENSIONS + tuple(m["name"] for m in expected["metric"]["measures"])
    shown = [
        {c: cell["value"] for c, cell in zip(present(expected), row, strict=True)} for row in table
    ]
    assert shown == [
        {c: text_of(r.get(c)) for c in columns if c in present(expected)} for r in expected["rows"]
    ]
    assert any(cell["value"] not in ("", "0", None) for row in table for cell in row)


def present(report: dict) -> list[str]:
    keys = {k for row in report["rows"] for k in row}
    if report["by"]:
        keys.add("group")
    measures = [m["name"] for m in report["metric"]["measures"]]
    return [d for d in analytics_pages.DIMENSIONS if d in keys] + measures


@pytest.mark.parametrize("filters", FILTERS, ids=["quarter", "by-team", "weeks"])
@pytest.mark.parametrize("metric", ["activation", "active", "pipeline", "retention", "completion"])
def test_a_dashboards_csv_is_the_apis_report(console, viewer, metric, filters):
    if metric == "completion" and "by" in filters:
        pytest.skip("per mechanic: no segments")
    expected = api_report(console, metric, filters)

    answer = viewer.get(f"/console/analytics/{metric}/csv", params=filters)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="partner-' + metric + "-2026-01-01")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    columns = present(expected)
    assert list(rows[0]) == columns
    assert rows == [{c: text_of(r.get(c)) for c in columns} for r in expected["rows"]]


def test_the_charts_bars_show_the_tables_figures(viewer):
    page = viewer.get("/console/analytics/active", params=Q1).text

    bars = page.split('<ul class="bars">')[1].split("</ul>")[0]

    values = [v.split("</span>")[0] for v in bars.split('<span class="bar-value">')[1:]]
    assert values == ["2", "1", "3"]  # active members in January, February, March
    assert 'width="66.67"' in bars and 'width="100.0"' in bars


@pytest.mark.parametrize("filters", [Q1, {**Q1, "by": "team"}], ids=["quarter", "by-team"])
@pytest.mark.parametrize("metric", list(analytics.METRICS))
def test_every_figure_links_to_the_members_the_api_lists(console, viewer, metric, filters):
    if metric in ("engagement", "completion") and "by" in filters:
        pytest.skip("per mechanic: no segments")
    reader = console.api.key("analytics:read")
    _, page = figures(viewer, metric, filters)
    links = [cell["link"] for row in page.tables["figures"] for cell in row if cell["link"]]
    assert links, "no figure links to its members"

    for link in links:
        listed = viewer.get(link)
        assert listed.status_code == 200, f"{link}: {listed.text}"
        params = dict(parse_qsl(urlsplit(link).query))
        params.setdefault("limit", "1000")
        api = console.api.client.get(
            f"/v1/analytics/{metric}/members", params=params, headers=reader
        ).json()
        shown = Tables(listed.text).tables.get("members", [])
        assert [row[0]["text"] for row in shown] == api["members"], link
        assert [row[0]["link"] for row in shown] == [
            f"/console/members/{m}" for m in api["members"]
        ]


def test_the_members_behind_a_figure_come_in_pages_and_as_csv(console, viewer, monkeypatch):
    monkeypatch.setattr(analytics_pages, "MEMBERS_PAGE", 2)
    query = {**Q1, "measure": "active", "period": "2026-03"}

    first = viewer.get("/console/analytics/active/members", params=query)

    assert [r[0]["text"] for r in Tables(first.text).tables["members"]] == ["ann", "ben"]
    member = viewer.get(Tables(first.text).tables["members"][0][0]["link"])
    assert member.status_code == 200, member.text  # the member's own page
    after = next(a for a in Tables(first.text).links if "after=" in a)
    second = viewer.get(after.replace("&amp;", "&"))
    assert [r[0]["text"] for r in Tables(second.text).tables["members"]] == ["cy"]
    assert 'rel="next"' not in second.text
    every = viewer.get("/console/analytics/active/members/csv", params=query)
    assert every.headers["content-disposition"].startswith("attachment; filename=")
    assert every.text.split() == ["member", "ann", "ben", "cy"]


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/console/analytics/active", {"from": "2026-13-01"}, 422, "from"),
        ("/console/analytics/active", {"from": "2026-03-01", "to": "2026-02-01"}, 422, "to"),
        ("/console/analytics/active", {**Q1, "interval": "day"}, 422, "interval"),
        ("/console/analytics/active", {**Q1, "by": "attribute:regoin"}, 422, "by"),
        ("/console/analytics/active", {**Q1, "by": "region"}, 422, "by"),
        ("/console/analytics/engagement", {**Q1, "by": "team"}, 422, "by"),
        ("/console/analytics/actve", Q1, 404, "metric"),
        ("/console/analytics/active/csv", {**Q1, "interval": "day"}, 422, "interval"),
        ("/console/analytics", {"to": "soon"}, 422, "to"),
        ("/console/analytics/active/members", {**Q1, "measure": "rate"}, 422, "measure"),
        (
            "/console/analytics/active/members",
            {**Q1, "measure": "active", "period": "x"},
            422,
            "period",
        ),
        ("/console/analytics/completion/members", {**Q1, "measure": "members"}, 422, "key"),
        ("/console/analytics/experiments/nope", {}, 404, "experiment"),
    ],
)
def test_a_bad_filter_is_a_4xx_page_naming_the_field(viewer, path, params, status, field):
    refused = viewer.get(path, params=params)

    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("text/html")
    if field != "experiment":  # the error page says the message; the others the field too
        assert f"<strong>{field}</strong>" in refused.text
    assert "Range and segment" in refused.text or field == "experiment"


def test_the_index_links_every_dashboard_with_the_filters(viewer):
    page = viewer.get("/console/analytics", params={**Q1, "by": "team"})

    assert page.status_code == 200, page.text
    for metric in analytics_pages.DASHBOARDS:
        assert f"/console/analytics/{metric}?from=2026-01-01&amp;to=2026-03-31&amp;by=team" in (
            page.text
        )
    assert viewer.get("/console/analytics/retention", params=Q1).text.count("heat-") > 0


def test_a_signed_out_browser_is_sent_to_sign_in(console):
    answer = console.client().get("/console/analytics/active", params=Q1)

    assert answer.status_code == 401


# --- experiments --------------------------------------------------------------------------


@pytest.fixture
def pilot(store):
    with console_on(store) as console:
        publish_demo(store, PILOT)
        console.api.clock.now = JULY
        writer = console.api.key("events:write", program="pilot")
        sent = [ev(f"l{i}", "login", f"m{i}", attributes=EMEA) for i in range(40)]
        sent += [ev(f"w{i}", "webinar.attended", f"m{i}") for i in range(0, 40, 2)]
        sent += [ev(f"f{i}", "feature.used", f"m{i}") for i in range(0, 40, 3)]
        answer = console.api.client.post("/v1/events", json=sent, headers=writer)
        assert answer.status_code == 200, answer.text
        console.api.clock.now = AFTER
        admin = console.api.key("program:admin", program="pilot")
        decision = {"decision": "extend", "decided_by": "Dana", "reason": "too few members"}
        console.api.client.post(
            "/v1/experiments/webinar_points/decision", json=decision, headers=admin
        )
        yield console


def test_an_experiments_page_has_the_reports_arms_lift_and_interval(pilot):
    viewer = pilot.browser("viewer")
    viewer.cookies.set(PROGRAM_COOKIE, "pilot", path="/console")
    reader = pilot.api.key("analytics:read", program="pilot")
    report = pilot.api.client.get("/v1/experiments/webinar_points", headers=reader).json()

    page = viewer.get("/console/analytics/experiments/webinar_points")

    assert page.status_code == 200, page.text
    tables = Tables(page.text).tables
    assert [r[1]["value"] for r in tables["arms"]] == [str(a["members"]) for a in report["arms"]]
    for row, outcome in zip(tables["outcomes"], report["outcomes"], strict=True):
        assert [c["value"] for c in row[1:6]] == [
            text_of(outcome["control"]),
            text_of(outcome["treatment"]),
            text_of(outcome["difference"]),
            f"{text_of(outcome['ci_low'])} {text_of(outcome['ci_high'])}",
            text_of(outcome["p_value"]),
        ]
    assert page.text.count('class="bar interval"') == len(report["outcomes"])
    assert "Sample ratio" in page.text and "too few members" in page.text
    index = viewer.get("/console/analytics").text
    assert "/console/analytics/experiments/webinar_points" in index

    answer = viewer.get("/console/analytics/experiments/webinar_points/csv")
    assert answer.headers["content-disposition"] == (
        'attachment; filename="pilot-experiment-webinar_points.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["metric"], r["difference"], r["ci_low"], r["ci_high"]) for r in rows] == [
        (o["metric"], text_of(o["difference"]), text_of(o["ci_low"]), text_of(o["ci_high"]))
        for o in report["outcomes"]
    ]


def _pilot_browser(console, role: str):
    browser = console.browser(role)
    browser.cookies.set(PROGRAM_COOKIE, "pilot", path="/console")
    return browser


def _decisions(console) -> list[tuple[str, str, str]]:
    found = experiments.report(
        console.api.store, "pilot", "webinar_points", clock=console.api.clock
    )
    return [(d.decision, d.decided_by, d.reason) for d in found.decisions]


def _decided_rows(console) -> list[AuditEntry]:
    entries = list_audit(console.api.store, "pilot").entries
    return [e for e in entries if e.action == "experiment.decided"]


def test_an_admin_records_a_decision_that_is_shown_and_audited(pilot):
    admin = _pilot_browser(pilot, "admin")
    page = admin.get("/console/analytics/experiments/webinar_points")
    assert "Record the decision" in page.text

    answer = post(
        admin,
        "/console/analytics/experiments/webinar_points/decision",
        {"decision": "ship", "reason": "activation up 4 points"},
    )

    assert answer.status_code == 303, answer.text
    shown = admin.get(answer.headers["location"])
    assert "The decision was recorded." in shown.text
    newest = shown.text.split('class="decisions"')[1].split("</li>")[0]
    assert "admin@example.com" in newest and "activation up 4 points" in newest
    assert _decisions(pilot)[-1] == ("ship", "admin@example.com", "activation up 4 points")
    by_console, by_key = _decided_rows(pilot)
    assert (by_console.actor, by_console.target) == ("admin@example.com", "webinar_points")
    assert by_console.after == {
        "decision": "ship",
        "decided_by": "admin@example.com",
        "reason": "activation up 4 points",
    }
    assert by_key.actor.startswith("api key ")  # the fixture's decision, made through the API


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_a_viewer_or_operator_sees_no_decision_form_and_is_refused(pilot, role):
    browser = _pilot_browser(pilot, role)
    before = _decisions(pilot)

    page = browser.get("/console/analytics/experiments/webinar_points")
    answer = post(
        browser,
        "/console/analytics/experiments/webinar_points/decision",
        {"decision": "stop", "reason": "not mine to say"},
    )

    assert page.status_code == 200 and "Record the decision" not in page.text
    assert answer.status_code == 403, answer.text
    assert _decisions(pilot) == before
    assert len(_decided_rows(pilot)) == 1  # the fixture's only


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"decision": "maybe", "reason": "unsure"}, "decision"),
        ({"decision": "", "reason": "unsure"}, "decision"),
        ({"decision": "ship", "reason": "   "}, "reason"),
        ({"decision": "ship"}, "reason"),
    ],
)
def test_a_bad_decision_is_refused_naming_the_field_and_nothing_is_stored(pilot, form, field):
    admin = _pilot_browser(pilot, "admin")
    before = _decisions(pilot)

    answer = post(admin, "/console/analytics/experiments/webinar_points/decision", form)

    assert answer.status_code == 422, answer.text
    assert f"<strong>{field}</strong>" in answer.text
    assert "Record the decision" in answer.text  # the form again, beside the error
    assert _decisions(pilot) == before
    assert len(_decided_rows(pilot)) == 1
