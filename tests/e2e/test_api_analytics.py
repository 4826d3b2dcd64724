"""Analytics over HTTP: the metric list, a report shaped for a chart, the members behind one of
its figures page by page, the scope that guards them, and bad input named by its field."""

from __future__ import annotations

import pytest

from tests.e2e.builders import api_on
from tests.integration.builders import row_counts
from tests.integration.test_analytics import NOW, setup

Q1 = "from=2026-01-01&to=2026-03-31"


@pytest.fixture
def api(store):
    with api_on(store) as api:
        setup(store)  # the hand-worked log of tests/integration/test_analytics.py
        api.clock.now = NOW
        yield api


def test_metrics_report_and_the_members_behind_a_figure(api):
    reader = api.key("analytics:read")
    metrics = api.client.get("/v1/analytics", headers=reader).json()
    assert [m["name"] for m in metrics][:3] == ["activation", "active", "qualified"]
    activation = next(m for m in metrics if m["name"] == "activation")
    assert [m["name"] for m in activation["measures"]] == ["invited", "activated", "rate"]

    report = api.client.get(f"/v1/analytics/active?{Q1}&by=team", headers=reader)
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["from"], body["to"], body["interval"], body["by"]) == (
        "2026-01-01",
        "2026-03-31",
        "month",
        "team",
    )
    assert body["timezone"] == "America/New_York"
    assert [(r["period"], r["group"], r["active"]) for r in body["rows"]] == [
        ("2026-01", "north", 2),
        ("2026-01", "south", 0),
        ("2026-02", "north", 0),
        ("2026-02", "south", 1),
        ("2026-03", "north", 2),
        ("2026-03", "south", 1),
    ]

    behind = f"/v1/analytics/active/members?{Q1}&measure=active&period=2026-03&limit=2"
    first = api.client.get(behind, headers=reader).json()
    assert first == {"members": ["ann", "ben"], "next": "ben"}
    rest = api.client.get(f"{behind}&after={first['next']}", headers=reader).json()
    assert rest == {"members": ["cy"], "next": None}
    team = f"/v1/analytics/active/members?{Q1}&measure=active&period=2026-03&by=team&group=south"
    assert api.client.get(team, headers=reader).json()["members"] == ["cy"]


def test_a_key_without_analytics_read_is_refused(api):
    writer = api.key("events:write", "members:read", "program:admin")
    for path in ("/v1/analytics", f"/v1/analytics/active?{Q1}"):
        refused = api.client.get(path, headers=writer)
        assert refused.status_code == 403, refused.text
    assert api.client.get("/v1/analytics").status_code == 401


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        (f"/v1/analytics/actve?{Q1}", 404, "metric"),
        ("/v1/analytics/active?from=2026-03-01&to=2026-02-01", 422, "to"),
        ("/v1/analytics/active?from=2026-13-01", 422, "from"),
        (f"/v1/analytics/active?{Q1}&interval=day", 422, "interval"),
        (f"/v1/analytics/active?{Q1}&by=attribute:regoin", 422, "by"),
        (f"/v1/analytics/engagement?{Q1}&by=team", 422, "by"),
        (f"/v1/analytics/active/members?{Q1}&measure=rate", 422, "measure"),
        (f"/v1/analytics/active/members?{Q1}&measure=active&period=2025-12", 422, "period"),
        (f"/v1/analytics/active/members?{Q1}&measure=active&limit=0", 422, "limit"),
        (f"/v1/analytics/active/members?{Q1}", 422, "measure"),
    ],
)
def test_bad_requests_name_the_field_and_store_nothing(api, path, status, field):
    reader = api.key("analytics:read")
    before = row_counts(api.store)
    refused = api.client.get(path, headers=reader)
    assert refused.status_code == status, refused.text
    assert refused.json()["error"]["field"] == field
    assert row_counts(api.store) == before
