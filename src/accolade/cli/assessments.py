"""`accolade assessments`: a lead's completed assessment."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from accolade.cli.options import JsonOption, ProgramOption, open_program
from accolade.cli.output import out, print_json

assessments_app = typer.Typer(
    help="Assessments: what a lead's answers scored, and where they lead.", no_args_is_help=True
)


@assessments_app.command("show")
def assessments_show(
    assessment: Annotated[str, typer.Argument(help="The assessment's key.")],
    lead: Annotated[str, typer.Argument(help="The lead's id (the events' member).")],
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """A lead's result: scores per dimension, level, segment, what follows, the CRM fields,
    the sales note, and which answer gave which score."""
    from accolade.service import assessments as assessments_service

    store, key = open_program(program)
    found = assessments_service.result(store, key, assessment, lead)
    if as_json:
        print_json(found)
        return
    scores = ", ".join(f"{name} {points}" for name, points in found.scores.items())
    out.print(
        f"[bold]{escape(found.lead)}[/bold] · {found.assessment} · completed {found.completed_at:%Y-%m-%d %H:%M} UTC",
        soft_wrap=True,
    )
    out.print(
        f"total {found.total} ({scores}) · level {found.level} · segment {found.segment}",
        soft_wrap=True,
    )
    if found.nurture_path or found.next_content:
        out.print(
            f"nurture path {found.nurture_path or '-'} · next {found.next_content or '-'}",
            soft_wrap=True,
        )
    table = Table("question", "answer", "scores", title="answers")
    for answer in found.answers:
        shown = ", ".join(answer.answer) if isinstance(answer.answer, list) else str(answer.answer)
        given = ", ".join(f"{n} {p:+d}" for n, p in answer.scores.items()) or "-"
        table.add_row(answer.question, shown, given)
    out.print(table)
    for name, value in found.fields.items():
        out.print(f"CRM {name}: {value}", soft_wrap=True, markup=False)
    if found.sales_note:
        out.print(f"sales note: {found.sales_note}", soft_wrap=True, markup=False)


@assessments_app.command("find")
def assessments_find(
    assessment: Annotated[str, typer.Argument(help="The assessment's key.")],
    email: Annotated[str, typer.Argument(help="The address: a lead's id or email attribute.")],
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """The leads known by an email who completed the assessment: how a prospect who became a
    member under another id is found again (`show` gives one in full)."""
    from accolade.service import assessments as assessments_service

    store, key = open_program(program)
    found = assessments_service.results_by_email(store, key, assessment, email)
    if as_json:
        print_json(found)
        return
    if not found:
        out.print(
            f"no lead known by {escape(email.strip().lower())} completed {escape(assessment)}"
        )
        return
    table = Table("lead", "completed (UTC)", "total", "level", "segment", title=assessment)
    for one in found:
        table.add_row(
            escape(one.lead),
            f"{one.completed_at:%Y-%m-%d %H:%M}",
            str(one.total),
            one.level,
            one.segment,
        )
    out.print(table)


@assessments_app.command("report")
def assessments_report(
    assessment: Annotated[str, typer.Argument(help="The assessment's key.")],
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """Starts, completion rate, where leads stop, the scores' spread, segment sizes, qualified
    conversion per segment, segment usefulness and sales context adoption."""
    from accolade.service import assessment_report

    store, key = open_program(program)
    found = assessment_report.report(store, key, assessment)
    if as_json:
        print_json(found)
        return
    out.print(
        f"[bold]{escape(found.name)}[/bold]: {found.started:,} started, {found.completed:,} "
        f"completed ({found.completion_percent}%), {found.stopped_before_answering:,} stopped "
        "before answering",
        soft_wrap=True,
    )
    drop = Table("question", "answered", "stopped after", title="where leads stop")
    for q in found.drop_off:
        drop.add_row(q.question, f"{q.answered:,}", f"{q.stopped_after:,}")
    out.print(drop)
    scores = Table("score", "min", "median", "max", "mean", title="scores of the completed")
    for s in found.scores:
        scores.add_row(s.name, str(s.min), f"{s.median:g}", str(s.max), f"{s.mean:g}")
    out.print(scores)
    segments = Table("segment", "leads", "share", "qualified", "conversion", title="segments")
    for row in found.segments:
        segments.add_row(
            row.name,
            f"{row.leads:,}",
            f"{row.share_percent}%",
            f"{row.qualified:,}",
            f"{row.conversion_percent}%",
        )
    out.print(segments)
    usefulness = "-" if found.segment_usefulness is None else f"{found.segment_usefulness:g}"
    out.print(
        f"qualified {found.qualified:,} ({found.conversion_percent}%) · segment usefulness "
        f"{usefulness} · sales notes viewed {found.sales_notes_viewed:,} "
        f"({found.sales_context_adoption_percent}%)",
        soft_wrap=True,
    )
