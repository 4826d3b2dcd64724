"""`accolade recommend`: next best actions: train a program's model on its history, and show
a member's ranked list with its reasons."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accolade.cli.options import JsonOption, ProgramOption, open_program
from accolade.cli.output import out, print_json

recommend_app = typer.Typer(
    help="Next best actions: train the model, show a member's list.", no_args_is_help=True
)


@recommend_app.command("train")
def recommend_train(
    program: ProgramOption = None,
    stride_days: Annotated[
        int, typer.Option("--stride-days", min=1, max=90, help="Days between sampled times.")
    ] = 7,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the member draw.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Train the active version's model on every member's history and store it."""
    from accolade.service import recommend_training

    store, key = open_program(program)
    report = recommend_training.train(store, key, stride_days=stride_days, seed=seed)
    if as_json:
        print_json(report)
        return
    m = report.metrics
    out.print(
        f"model {report.model_id} for {report.program} v{report.program_version}: "
        f"{report.members:,} members, {report.samples:,} samples, {report.positives:,} positives"
    )
    out.print(f"modelled: {', '.join(report.actions_modelled) or '-'}")
    out.print(f"on the prior (thin history): {', '.join(report.actions_on_prior) or '-'}")
    out.print(
        f"precision@3 on later times ({m.evaluated:,} rows): model {m.model:.3f}, "
        f"rules {m.rules:.3f}, most popular {m.popular:.3f}"
    )


@recommend_app.command("show")
def recommend_show(
    member: Annotated[str, typer.Argument(help="The member's id.")],
    program: ProgramOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=50, help="How many.")] = 5,
    as_json: JsonOption = False,
) -> None:
    """A member's next best actions, best first, with their reasons."""
    from accolade.service import recommend

    store, key = open_program(program)
    found = recommend.next_actions(store, key, member, limit=limit)
    if as_json:
        print_json(found)
        return
    if found.held_out is not None:
        out.print(f"no recommendations for {member}: {found.held_out}")
        return
    if not found.recommendations:
        out.print(f"nothing to recommend to {member} now")
        return
    table = Table("#", "candidate", "score", "source", "why")
    for r in found.recommendations:
        table.add_row(
            str(r.rank),
            f"{r.name}\n{r.key}",
            f"{r.score:,.1f}",
            r.source,
            "\n".join(r.reasons),
        )
    out.print(table)
