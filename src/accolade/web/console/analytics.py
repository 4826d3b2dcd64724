"""The console's analytics dashboards: each metric of service/analytics.py as a chart with its
numbers beside it in a table, filtered by date range, interval and segment; a CSV of every
table; the members behind every figure; each experiment's arms, lift and 95% interval
(service/experiments.py). Charts are drawn on the server (web/console/charts.py): no script.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Hashable
from dataclasses import astuple, dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from accolade.errors import AccoladeError, InvalidInput, NotFound
from accolade.service import analytics, experiments, figures
from accolade.web.console import charts
from accolade.web.console.web import PREFIX, Admin, ConsolePage, Signed, headers, render
from accolade.web.pages import day_of

router = APIRouter(prefix=PREFIX, include_in_schema=False)
HERE = f"{PREFIX}/analytics"
MEMBERS_PAGE = 100
CSV_PAGE = analytics.MAX_PAGE

# The dashboards, in the order the index lists them: metric -> (title, the measure charted).
DASHBOARDS: dict[str, tuple[str, str]] = {
    "activation": ("Activation", "rate"),
    "active": ("Active members", "active"),
    "completion": ("Completion and drop-off", "members"),
    "qualified": ("Qualified conversion", "rate"),
    "pipeline": ("Pipeline influenced", "influenced"),
    "points": ("Points liability", "liability"),
    "retention": ("Retention cohorts", "rate"),
    "adoption": ("Adoption", "rate"),
    "engagement": ("Engagement by mechanic", "points"),
}
# The measures whose members a figure links to: those service.analytics.members can list as
# the members behind that very number (not rates, the liability or a completion's drop-off).
LINKED: dict[str, tuple[str, ...]] = {
    "activation": ("invited", "activated"),
    "active": ("active",),
    "qualified": ("active", "qualified", "first_qualified"),
    "adoption": ("active", "adopted", "adoptions"),
    "pipeline": ("influenced", "won"),
    "points": ("issued", "redeemed", "expired"),
    "engagement": ("events", "members", "points"),
    "completion": ("members",),
    "retention": ("active",),
}
# The columns that say which row a figure is on, in the order a table shows them.
DIMENSIONS = ("period", "group", "mechanic", "kind", "position", "currency", "offset")

From = Annotated[str, Query(alias="from", max_length=32)]
To = Annotated[str, Query(alias="to", max_length=32)]
Interval = Annotated[str, Query(max_length=16)]
By = Annotated[str, Query(max_length=100)]
Text = Annotated[str, Query(max_length=200)]
ExperimentKey = Annotated[str, Path(max_length=64)]
REASON_MAX = 5000  # characters of a decision's reason, as the API takes
# What the experiment's page says after a decision (?done=...): a fixed sentence.
DONE = {"decided": "The decision was recorded."}


@dataclass(frozen=True)
class Filters:
    """The filters as typed (shown back in the form, carried by every link)."""

    start: str = ""
    end: str = ""
    interval: str = ""
    by: str = ""

    def query(self, **more: str | None) -> str:
        """The query string of these filters and ``more`` (empty values left out)."""
        pairs = {"from": self.start, "to": self.end, "interval": self.interval, "by": self.by}
        pairs.update({k: v for k, v in more.items() if v is not None})
        return urlencode({k: v for k, v in pairs.items() if v != ""})

    def parsed(self) -> tuple[date | None, date | None, str | None, str | None]:
        """The filters for the service: dates checked here (InvalidInput naming the field)."""
        return (
            day_of(self.start, "from"),
            day_of(self.end, "to"),
            self.interval or None,
            self.by or None,
        )


def _filters(start: From = "", end: To = "", interval: Interval = "", by: By = "") -> Filters:
    """The filters of a request's query string (``from``, ``to``, ``interval``, ``by``)."""
    return Filters(start, end, interval, by)


Filtered = Annotated[Filters, Depends(_filters)]


def _report(
    page: ConsolePage, metric: str, filters: Filters, *, fresh: bool = False
) -> figures.Kept[analytics.Report]:
    """The metric's report, kept while the log has not moved (service/figures.py)."""
    program, key, compute = _figure(page, metric, filters)
    return page.ctx.figures.get(program, key, compute, fresh=fresh)


def _figure(
    page: ConsolePage, metric: str, filters: Filters
) -> tuple[str, Hashable, Callable[[], analytics.Report]]:
    """The program, the key the report is kept under and what computes it; a range left to
    its default (the last three months) is today's."""
    start, end, interval, by = filters.parsed()
    program = _program(page)
    today = page.ctx.clock().date() if start is None or end is None else None
    return (
        program,
        ("report", metric, start, end, interval, by, today),
        lambda: analytics.report(
            page.ctx.store, program, metric, start, end, interval, by, page.ctx.clock
        ),
    )


def _program(page: ConsolePage) -> str:
    if page.program is None:
        raise NotFound("no program is published yet", field="program")
    return page.program


def _refused(
    request: Request, page: ConsolePage, error: AccoladeError, filters: Filters, metric: str = ""
) -> Response:
    """The dashboards' index with the filter form and the error naming its field."""
    return render(
        request,
        "analytics.html",
        {
            "filters": filters,
            "dashboards": DASHBOARDS,
            "metric_descriptions": {k: m.description for k, m in analytics.METRICS.items()},
            "experiments": [],
            "error": error,
            "failed": metric,
        },
        page=page,
        status=error.status,
    )


@router.get("/analytics")
def analytics_page(
    request: Request,
    page: Signed,
    filters: Filtered,
) -> Response:
    """The dashboards, their descriptions and the experiments, with the filter form. Each
    dashboard's figures for these filters start being computed in the background, so the
    pages this one links to open on kept figures."""
    try:
        filters.parsed()
        found = (
            experiments.experiments(page.ctx.store, page.program, clock=page.ctx.clock)
            if page.program
            else []
        )
    except AccoladeError as error:
        return _refused(request, page, error, filters)
    if page.program:
        for metric in DASHBOARDS:
            page.ctx.figures.warm(*_figure(page, metric, filters))
    return render(
        request,
        "analytics.html",
        {
            "filters": filters,
            "dashboards": DASHBOARDS,
            "metric_descriptions": {k: m.description for k, m in analytics.METRICS.items()},
            "experiments": found,
            "error": None,
            "failed": "",
        },
        page=page,
    )


@router.get("/analytics/experiments/{experiment}")
def experiment_page(
    request: Request,
    page: Signed,
    experiment: ExperimentKey,
    done: str | None = None,
    fresh: Annotated[bool, Query()] = False,
) -> Response:
    """An experiment's arms, each outcome's lift with its 95% interval, the SRM check and the
    decisions; (admin) the form that records a decision. The report kept from an earlier look
    unless ``fresh``, or just after a decision (which it shows)."""
    return _experiment(
        request, page, experiment, done=DONE.get(done or ""), fresh=fresh or done is not None
    )


@router.post("/analytics/experiments/{experiment}/decision")
def decide(
    request: Request,
    page: Admin,
    experiment: ExperimentKey,
    decision: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=REASON_MAX)] = "",
) -> Response:
    """Record ship, stop or extend with a reason, decided by the signed-in admin (audited)."""
    try:
        experiments.decide(
            page.ctx.store,
            _program(page),
            experiment,
            decision,
            page.user.email,
            reason,
            clock=page.ctx.clock,
            actor=page.actor,
        )
    except InvalidInput as error:
        form = {"decision": decision, "reason": reason}
        return _experiment(request, page, experiment, error=error, form=form, fresh=True)
    return RedirectResponse(
        f"{HERE}/experiments/{experiment}?done=decided#decisions-title",
        status_code=303,
        headers=headers(page.ctx),
    )


def _experiment(
    request: Request,
    page: ConsolePage,
    experiment: str,
    *,
    done: str | None = None,
    error: AccoladeError | None = None,
    form: dict[str, str] | None = None,
    fresh: bool = False,
) -> Response:
    kept = _experiment_report(page, experiment, fresh=fresh)
    found = kept.value
    return render(
        request,
        "analytics_experiment.html",
        {
            "report": found,
            "kept": kept,
            "chart": charts.intervals(found.outcomes),
            "show": charts.outcome_figure,
            "decisions": experiments.DECISIONS,
            "done": done,
            "error": error,
            "form": form or {},
        },
        page=page,
        status=error.status if error else 200,
    )


def _experiment_report(
    page: ConsolePage, experiment: str, *, fresh: bool = False
) -> figures.Kept[experiments.ExperimentReport]:
    program = _program(page)
    return page.ctx.figures.get(
        program,
        ("experiment", experiment),
        lambda: experiments.report(page.ctx.store, program, experiment, clock=page.ctx.clock),
        fresh=fresh,
    )


@router.get("/analytics/experiments/{experiment}/csv")
def experiment_csv(page: Signed, experiment: ExperimentKey) -> Response:
    """The outcomes table of an experiment's report."""
    found = _experiment_report(page, experiment).value
    columns = [
        "metric",
        "kind",
        "control",
        "treatment",
        "difference",
        "ci_low",
        "ci_high",
        "p_value",
        "test",
        "currency",
    ]
    rows = [{c: getattr(o, c) for c in columns} for o in found.outcomes]
    return _csv(page, f"{_program(page)}-experiment-{experiment}.csv", columns, rows)


@router.get("/analytics/{metric}")
def metric_page(
    request: Request,
    page: Signed,
    metric: Annotated[str, Path(max_length=32)],
    filters: Filtered,
    fresh: Annotated[bool, Query()] = False,
) -> Response:
    """One metric: its chart and its table, each figure linking to its members; the figures
    kept from an earlier look unless ``fresh`` (said to be as of their time when the log has
    moved since)."""
    try:
        kept = _report(page, metric, filters, fresh=fresh)
    except AccoladeError as error:
        return _refused(request, page, error, filters, metric)
    found = kept.value
    # the range the report covers, shown in the form and carried by the links: the default
    # (the last three months to today) spelled out, so a CSV or member list is the same range
    filters = Filters(
        str(found.range.start), str(found.range.end), found.range.interval, found.range.by or ""
    )
    columns = _columns(found)
    title, charted = DASHBOARDS.get(metric, (metric, found.metric.measures[0].name))
    kinds = {m.name: m.kind for m in found.metric.measures}
    chart = (
        charts.heatmap(found.rows, found.range.by is not None)
        if metric == "retention"
        else charts.bars(found.rows, charted, kinds[charted], _label)
    )
    return render(
        request,
        "analytics_metric.html",
        {
            "filters": filters,
            "report": found,
            "kept": kept,
            "title": title,
            "charted": charted,
            "chart": chart,
            "columns": columns,
            "measures": [m.name for m in found.metric.measures],
            "kinds": kinds,
            "show": charts.figure,
            "link": lambda row, measure: _members_link(found, filters, row, measure),
        },
        page=page,
    )


@router.get("/analytics/{metric}/csv")
def metric_csv(
    request: Request,
    page: Signed,
    metric: Annotated[str, Path(max_length=32)],
    filters: Filtered,
) -> Response:
    """A metric's table as CSV: the rows of the report, each measure a column (raw values:
    rates as fractions, money in minor units): the figures the page shows."""
    try:
        found = _report(page, metric, filters).value
    except AccoladeError as error:
        return _refused(request, page, error, filters, metric)
    name = f"{found.program}-{metric}-{found.range.start}-{found.range.end}"
    by_name = f"-by-{found.range.by.replace(':', '-')}" if found.range.by else ""
    return _csv(page, f"{name}-{found.range.interval}{by_name}.csv", _columns(found), found.rows)


@router.get("/analytics/{metric}/members")
def members_page(
    request: Request,
    page: Signed,
    metric: Annotated[str, Path(max_length=32)],
    filters: Filtered,
    measure: Annotated[str, Query(max_length=32)] = "",
    period: Annotated[str, Query(max_length=16)] = "",
    group: Text = "",
    key: Text = "",
    after: Text = "",
    fresh: Annotated[bool, Query()] = False,
) -> Response:
    """The members behind one figure, a page at a time, each linking to the member's page;
    the page kept as the dashboards' figures are (service/figures.py)."""
    try:
        kept = page.ctx.figures.get(
            _program(page),
            ("members", metric, measure, astuple(filters), period, group, key, after),
            lambda: _members(
                page, metric, measure, filters, period, group, key, after, MEMBERS_PAGE
            ),
            fresh=fresh,
        )
    except AccoladeError as error:
        return _refused(request, page, error, filters, metric)
    found = kept.value
    figure = {"measure": measure, "period": period, "group": group, "key": key}
    return render(
        request,
        "analytics_members.html",
        {
            "metric": metric,
            "title": DASHBOARDS.get(metric, (metric, ""))[0],
            "filters": filters,
            "figure": figure,
            "members": found.members,
            "next": found.next,
            "after": after,
            "kept": kept,
            "fresh_href": f"{request.url.path}?{request.url.include_query_params(fresh='1').query}",
        },
        page=page,
    )


@router.get("/analytics/{metric}/members/csv")
def members_csv(
    request: Request,
    page: Signed,
    metric: Annotated[str, Path(max_length=32)],
    filters: Filtered,
    measure: Annotated[str, Query(max_length=32)] = "",
    period: Annotated[str, Query(max_length=16)] = "",
    group: Text = "",
    key: Text = "",
) -> Response:
    """Every member behind one figure (all pages) as CSV."""
    everyone: list[str] = []
    after = ""
    try:
        while True:
            found = _members(page, metric, measure, filters, period, group, key, after, CSV_PAGE)
            everyone.extend(found.members)
            if found.next is None:
                break
            after = found.next
    except AccoladeError as error:
        return _refused(request, page, error, filters, metric)
    name = "-".join(p for p in (_program(page), metric, measure, period, group, key) if p)
    return _csv(
        page,
        f"{name.replace('/', '-').replace(':', '-')}-members.csv",
        ["member"],
        [{"member": m} for m in everyone],
    )


def _members(
    page: ConsolePage,
    metric: str,
    measure: str,
    filters: Filters,
    period: str,
    group: str,
    key: str,
    after: str,
    limit: int,
) -> analytics.MemberPage:
    start, end, interval, by = filters.parsed()
    return analytics.members(
        page.ctx.store,
        _program(page),
        metric,
        measure,
        start=start,
        end=end,
        interval=interval,
        by=by,
        period=period or None,
        group=group or None,
        key=key or None,
        after=after or None,
        limit=limit,
        clock=page.ctx.clock,
    )


def _columns(found: analytics.Report) -> list[str]:
    """The table's columns: the row's dimensions present in the rows, then every measure."""
    present = {k for row in found.rows for k in row}
    if found.range.by is not None:
        present.add("group")
    return [d for d in DIMENSIONS if d in present] + [m.name for m in found.metric.measures]


def _label(row: dict[str, Any]) -> str:
    """How a chart names a row: its mechanic, period, group and currency."""
    parts = [row.get("mechanic"), row.get("period"), row.get("group"), row.get("currency")]
    if "mechanic" in row:
        parts = [row.get("mechanic"), row.get("period")]
    return " · ".join(str(p) for p in parts if p not in (None, ""))


def _members_link(
    found: analytics.Report, filters: Filters, row: dict[str, Any], measure: str
) -> str | None:
    """The page listing the members behind ``row``'s ``measure``, or None when no list says
    who makes that number (a rate, the liability, a group of members without one)."""
    metric = found.metric.name
    if measure not in LINKED.get(metric, ()):
        return None
    if found.range.by is not None and row.get("group") is None:
        return None
    if metric == "retention":
        key: str | None = str(row["offset"])
    elif metric in ("engagement", "completion"):
        key = str(row["mechanic"])
    else:
        key = None
    query = filters.query(
        measure=measure,
        period=row.get("period"),
        group=row.get("group") if found.range.by is not None else None,
        key=key,
    )
    return f"{HERE}/{metric}/members?{query}"


def _csv(page: ConsolePage, filename: str, columns: list[str], rows: list[Any]) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in filename)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={**headers(page.ctx), "Content-Disposition": f'attachment; filename="{safe}"'},
    )
