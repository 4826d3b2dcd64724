"""`accolade analytics`: the metrics, a report over a date range, the members behind a figure."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from accolade.cli.options import JsonOption, ProgramOption, open_program
from accolade.cli.output import out, print_json

analytics_app = typer.Typer(
    help="Analytics: activation, active members, conversion, pipeline, points, cohorts.",
    no_args_is_help=True,
)
MetricArgument = Annotated[str, typer.Argument(help="A metric, as `analytics metrics` lists them.")]
FromOption = Annotated[
    datetime | None,
    typer.Option(
        "--from", formats=["%Y-%m-%d"], help="First day (default: 2 months ago, the 1st)."
    ),
]
ToOption = Annotated[
    datetime | None,
    typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, included (default: today)."),
]
IntervalOption = Annotated[str, typer.Option("--interval", help="month or week.")]
ByOption = Annotated[
    str | None,
    typer.Option(
        "--by", help="Break down by team, company, tier, stage, member or attribute:NAME."
    ),
]


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@analytics_app.command("metrics")
def analytics_metrics(as_json: JsonOption = False) -> None:
    """The metrics, their measures and what each one counts."""
    from accolade.service import analytics as analytics_service

    metrics = list(analytics_service.METRICS.values())
    if as_json:
        print_json(metrics)
        return
    table = Table("metric", "measures", "what it is")
    for m in metrics:
        table.add_row(m.name, ", ".join(x.name for x in m.measures), m.description)
    out.print(table)


@analytics_app.command("report")
def analytics_report(
    metric: MetricArgument,
    start: FromOption = None,
    end: ToOption = None,
    interval: IntervalOption = "month",
    by: ByOption = None,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """A metric per month or week (and segment) over a date range, in the program's zone."""
    from accolade.service import analytics as analytics_service

    store, key = open_program(program)
    report = analytics_service.report(store, key, metric, _day(start), _day(end), interval, by)
    if as_json:
        print_json(
            {
                "program": report.program,
                "metric": report.metric,
                "from": report.range.start,
                "to": report.range.end,
                "interval": report.range.interval,
                "by": report.range.by,
                "timezone": report.timezone,
                "rows": report.rows,
            }
        )
        return
    columns: list[str] = []
    for row in report.rows:
        columns += [c for c in row if c not in columns]
    title = f"{report.metric.name}, {report.range.start} to {report.range.end} ({report.timezone})"
    kinds = {m.name: m.kind for m in report.metric.measures}
    table = Table(*columns, title=title)
    for row in report.rows:
        table.add_row(*(_cell(row.get(c), kinds.get(c)) for c in columns))
    out.print(table)
    if not report.rows:
        out.print("no rows in this range")


def _cell(value: Any, kind: str | None) -> str:
    if value is None:
        return "-"
    if kind == "rate":
        return f"{value:.1%}"
    if kind == "days":
        return f"{value:,.1f} d"
    if isinstance(value, int) and kind is not None:
        return f"{value:,}"
    return str(value)


@analytics_app.command("members")
def analytics_members(
    metric: MetricArgument,
    measure: Annotated[str, typer.Option("--measure", help="The measure, e.g. activated.")],
    period: Annotated[
        str | None, typer.Option("--period", help="The row's period (default: the range).")
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="The row's group, with --by.")
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key", help="Engagement, completion: the row's mechanic; retention: the offset."
        ),
    ] = None,
    start: FromOption = None,
    end: ToOption = None,
    interval: IntervalOption = "month",
    by: ByOption = None,
    after: Annotated[
        str | None, typer.Option("--after", help="The last id of the page before.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Members per page.")] = 100,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """The members behind one figure of a report, a page at a time."""
    from accolade.service import analytics as analytics_service

    store, program_key = open_program(program)
    page = analytics_service.members(
        store,
        program_key,
        metric,
        measure,
        start=_day(start),
        end=_day(end),
        interval=interval,
        by=by,
        period=period,
        group=group,
        key=key,
        after=after,
        limit=limit,
    )
    if as_json:
        print_json(page)
        return
    for member in page.members:
        out.print(member, soft_wrap=True)
    if page.next is not None:
        out.print(f"more: --after {page.next}")
