"""Analytics: each metric over a date range by month or week, broken down by a member's team,
company, tier, stage or attribute, and the members behind every figure."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from accolade.api.access import Ctx, scoped
from accolade.api.errors import ERROR_RESPONSES
from accolade.service import analytics as analytics_service
from accolade.service.keys import Principal

router = APIRouter(prefix="/v1/analytics", tags=["analytics"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(scoped("analytics:read"))]
MetricName = Annotated[
    str, Path(max_length=32, description="A metric's name, as `GET /v1/analytics` lists them.")
]
From = Annotated[
    date | None,
    Query(
        alias="from",
        description="First day, in the program's zone (default: 2 months ago, the 1st).",
    ),
]
To = Annotated[date | None, Query(alias="to", description="Last day, included (default: today).")]
Interval = Annotated[
    str | None, Query(max_length=8, description="`month` (the default) or `week`.")
]
By = Annotated[
    str | None,
    Query(
        max_length=100,
        description="Break down by `team`, `company`, `tier`, `stage`, `member` or "
        "`attribute:NAME` (not for engagement and completion, which are per mechanic).",
    ),
]

Value = str | int | float | None


class MeasureOut(BaseModel):
    name: str
    kind: str = Field(description="members | sum | rate | days | points | money")
    description: str


class MetricOut(BaseModel):
    name: str
    description: str
    measures: list[MeasureOut]
    periods: bool = Field(description="Rows per period (else per mechanic for the whole range).")
    groups: bool = Field(description="Can be broken down with `by`.")


class ReportOut(BaseModel):
    program: str
    metric: MetricOut
    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    interval: str
    by: str | None
    timezone: str
    rows: list[dict[str, Value]] = Field(
        description="One per period (and group, and currency for pipeline; per mechanic for "
        "engagement and completion; per cohort and offset for retention), each measure a key."
    )


class MembersOut(BaseModel):
    members: list[str] = Field(description="Member ids, in id order.")
    next: str | None = Field(description="Pass as `after` for the next page; null on the last.")


def _metric_out(metric: analytics_service.Metric) -> MetricOut:
    return MetricOut(
        name=metric.name,
        description=metric.description,
        measures=[
            MeasureOut(name=m.name, kind=m.kind, description=m.description) for m in metric.measures
        ],
        periods=metric.periods,
        groups=metric.groups,
    )


@router.get("", response_model=list[MetricOut], summary="The metrics and their measures")
def get_metrics(principal: Reader) -> Any:
    return [_metric_out(m) for m in analytics_service.METRICS.values()]


@router.get(
    "/{metric}",
    response_model=ReportOut,
    response_model_by_alias=True,
    summary="A metric per period (and segment) over a date range",
)
def get_report(
    metric: MetricName,
    ctx: Ctx,
    principal: Reader,
    start: From = None,
    end: To = None,
    interval: Interval = None,
    by: By = None,
) -> Any:
    found = analytics_service.report(
        ctx.store, principal.program_key, metric, start, end, interval, by, ctx.clock
    )
    return ReportOut(
        program=found.program,
        metric=_metric_out(found.metric),
        start=found.range.start,
        end=found.range.end,
        interval=found.range.interval,
        by=found.range.by,
        timezone=found.timezone,
        rows=found.rows,
    )


@router.get(
    "/{metric}/members",
    response_model=MembersOut,
    summary="The members behind one figure of a report (a page)",
)
def get_members(
    metric: MetricName,
    ctx: Ctx,
    principal: Reader,
    measure: Annotated[str, Query(max_length=32, description="The measure, e.g. `activated`.")],
    start: From = None,
    end: To = None,
    interval: Interval = None,
    by: By = None,
    period: Annotated[
        str | None, Query(max_length=16, description="The row's period (default: the range).")
    ] = None,
    group: Annotated[
        str | None, Query(max_length=200, description="The row's group, with `by`.")
    ] = None,
    key: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Engagement and completion: the row's mechanic; retention: the offset.",
        ),
    ] = None,
    after: Annotated[
        str | None, Query(max_length=200, description="The `next` of the page before.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=analytics_service.MAX_PAGE)] = 100,
) -> Any:
    return analytics_service.members(
        ctx.store,
        principal.program_key,
        metric,
        measure,
        start=start,
        end=end,
        interval=interval,
        by=by,
        period=period,
        group=group,
        key=key,
        after=after,
        limit=limit,
        clock=ctx.clock,
    )
