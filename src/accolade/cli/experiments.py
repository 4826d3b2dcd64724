"""`accolade experiments`: pilots with a control group: their arms, the lift they measure, and
what was decided about them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from accolade.cli.options import JsonOption, ProgramOption, open_program
from accolade.cli.output import out, print_json

if TYPE_CHECKING:
    from accolade.service.experiments import ExperimentReport, ExperimentSummary, OutcomeRow

experiments_app = typer.Typer(
    help="Experiments: arms, measured lift, decisions.", no_args_is_help=True
)

ExperimentArgument = Annotated[str, typer.Argument(help="The experiment's key.")]


@experiments_app.command("list")
def experiments_list(program: ProgramOption = None, as_json: JsonOption = False) -> None:
    """Every experiment of the active version: its window, its arms' sizes, the last decision."""
    from accolade.service import experiments as experiments_service

    store, key = open_program(program)
    found = experiments_service.experiments(store, key)
    if as_json:
        print_json(found)
        return
    if not found:
        out.print("no experiment in this program")
        return
    table = Table("experiment", "status", "window", "control", "treatment", "decision")
    for e in found:
        table.add_row(
            e.key,
            e.status,
            _window(e),
            *(f"{arm.members:,}" for arm in e.arms),
            e.decision.decision if e.decision else "-",
        )
    out.print(table)


@experiments_app.command("report")
def experiments_report(
    experiment: ExperimentArgument, program: ProgramOption = None, as_json: JsonOption = False
) -> None:
    """Per arm, the members and each outcome; the difference (treatment minus control) with its
    95% interval and p-value; the sample-ratio check; the decisions."""
    from accolade.service import experiments as experiments_service

    store, key = open_program(program)
    found = experiments_service.report(store, key, experiment)
    if as_json:
        print_json(found)
        return
    _print_report(found)


@experiments_app.command("decide")
def experiments_decide(
    experiment: ExperimentArgument,
    decision: Annotated[str, typer.Option("--decision", help="ship, stop or extend.")],
    by: Annotated[str, typer.Option("--by", help="Who decided.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
    program: ProgramOption = None,
) -> None:
    """Record what was decided about an experiment, by whom and why (every decision is kept;
    the report shows the latest)."""
    from accolade.service import experiments as experiments_service
    from accolade.service.audit import CLI_ACTOR

    store, key = open_program(program)
    done = experiments_service.decide(store, key, experiment, decision, by, reason, actor=CLI_ACTOR)
    out.print(f"{experiment}: {done.decision}, decided by {done.decided_by}: {done.reason}")


def _window(e: ExperimentSummary) -> str:
    return f"{e.starts_at:%Y-%m-%d %H:%M} to {e.ends_at:%Y-%m-%d %H:%M} UTC"


def _print_report(r: ExperimentReport) -> None:
    out.print(f"[bold]{r.name}[/bold] ({r.key}, {r.status}): {_window(r)}")
    split = f"cohort of {r.cohort}" if r.cohort is not None else f"split {r.split:.0%} treatment"
    out.print(f"covers {', '.join(r.covers)} · {split}")
    out.print(" · ".join(f"{arm.arm} {arm.members:,} members" for arm in r.arms))
    srm = r.srm
    if srm is not None and srm.p_value is not None:
        verdict = (
            "[red]MISMATCH[/red]: the arms' sizes do not fit the split" if srm.mismatch else "ok"
        )
        out.print(f"sample ratio: p = {srm.p_value:.4f} ({verdict})")
    table = Table(
        "outcome", "control", "treatment", "difference", "95% interval", "p-value", "test"
    )
    for row in r.outcomes:
        interval = "-"
        if row.ci_low is not None and row.ci_high is not None:
            interval = f"{_figure(row, row.ci_low, True)} to {_figure(row, row.ci_high, True)}"
        table.add_row(
            row.metric,
            _figure(row, row.control),
            _figure(row, row.treatment),
            _figure(row, row.difference, True),
            interval,
            "-" if row.p_value is None else f"{row.p_value:.4f}",
            row.test or "-",
        )
    out.print(table)
    if r.decision is not None:
        d = r.decision
        out.print(
            f"decision: {d.decision} by {d.decided_by} on {d.decided_at:%Y-%m-%d}: {d.reason}"
        )


def _figure(row: OutcomeRow, value: float | None, difference: bool = False) -> str:
    """A rate as a percentage (a difference of rates in percentage points), a mean as a
    number (pipeline in minor units of its currency)."""
    if value is None:
        return "-"
    if row.kind == "rate":
        return f"{value * 100:+.1f} pts" if difference else f"{value:.1%}"
    unit = f" {row.currency} minor units" if row.currency else ""
    return (f"{value:+,.2f}" if difference else f"{value:,.2f}") + unit
