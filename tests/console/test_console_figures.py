"""The dashboards keep their figures (service/figures.py): a page says when its figures were
computed; once events arrive it shows the kept figures, says newer ones are being computed,
and links to computing them now; the analytics index starts computing each dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accolade.service.ingest import ingest_batch
from accolade.web.console.web import PROGRAM_COOKIE
from tests.console.builders import console_on
from tests.console.test_console_analytics import Q1, Tables, api_report
from tests.integration.builders import video
from tests.integration.test_analytics import FEB, NOW, setup

STALE = "Events have arrived since"


@pytest.fixture
def console(store):
    with console_on(store) as console:
        setup(store)
        console.api.clock.now = NOW
        yield console


@pytest.fixture
def viewer(console):
    client = console.browser("viewer")
    client.cookies.set(PROGRAM_COOKIE, "partner", path="/console")
    return client


def february_of(html: str) -> str:
    [february] = [r for r in Tables(html).tables["figures"] if r[0]["value"] == "2026-02"]
    return str(february[1]["value"])


def active_in_february(viewer) -> str:
    return february_of(viewer.get("/console/analytics/active", params=Q1).text)


def new_member_in_february(console, member: str) -> None:
    event = video(f"{member}-1", member, FEB + timedelta(days=1))
    ingest_batch(console.api.store, "partner", [(0, event)], clock=console.api.clock)


def test_a_page_says_when_its_figures_were_computed(console, viewer):
    page = viewer.get("/console/analytics/active", params=Q1)
    assert f"Figures as of {NOW:%Y-%m-%d %H:%M:%S} UTC." in page.text
    assert STALE not in page.text


def test_after_new_events_the_kept_figures_are_shown_then_the_fresh_ones(console, viewer):
    before = active_in_february(viewer)
    new_member_in_february(console, "zed")
    page = viewer.get("/console/analytics/active", params=Q1)
    assert STALE in page.text and "fresh=1" in page.text
    assert february_of(page.text) == before  # kept, while the fresh ones are computed
    console.api.context.figures.wait()
    after = active_in_february(viewer)
    assert int(after) == int(before) + 1
    expected = api_report(console, "active", Q1)
    assert [r["active"] for r in expected["rows"] if r["period"] == "2026-02"] == [int(after)]
    assert STALE not in viewer.get("/console/analytics/active", params=Q1).text


def test_compute_them_now_gives_the_fresh_figures_in_the_request(console, viewer):
    before = active_in_february(viewer)
    new_member_in_february(console, "zed")
    fresh = viewer.get("/console/analytics/active", params={**Q1, "fresh": "1"})
    assert fresh.status_code == 200 and STALE not in fresh.text
    console.api.context.figures.wait()
    assert int(active_in_february(viewer)) == int(before) + 1


def test_the_csv_is_the_figures_the_page_shows(console, viewer):
    before = active_in_february(viewer)
    new_member_in_february(console, "zed")
    csv_text = viewer.get("/console/analytics/active/csv", params=Q1).text
    [february] = [line for line in csv_text.splitlines() if line.startswith("2026-02")]
    assert february.split(",")[1] == before


def test_the_analytics_index_starts_computing_each_dashboard(console, viewer):
    assert viewer.get("/console/analytics", params=Q1).status_code == 200
    console.api.context.figures.wait()
    kept = console.api.context.figures
    page = viewer.get("/console/analytics/retention", params=Q1)
    assert page.status_code == 200 and STALE not in page.text
    assert len(kept._kept) >= 9  # every dashboard's report, computed beside the index


def test_the_members_behind_a_figure_are_kept_as_the_figure_is(console, viewer):
    url = "/console/analytics/active/members"
    params = {**Q1, "measure": "active", "period": "2026-02"}
    before = viewer.get(url, params=params)
    assert "Figures as of" in before.text and "zed" not in before.text
    new_member_in_february(console, "zed")
    kept = viewer.get(url, params=params)
    assert STALE in kept.text and "zed" not in kept.text
    assert "fresh=1" in kept.text
    fresh = viewer.get(url, params={**params, "fresh": "1"})
    assert "zed" in fresh.text and STALE not in fresh.text
