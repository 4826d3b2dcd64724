"""`accolade challenges`: close windows that have ended, see completion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from accolade.cli.options import JsonOption, ProgramOption, open_program
from accolade.cli.output import out, print_json

if TYPE_CHECKING:
    from accolade.service.challenges import ChallengeStats

challenges_app = typer.Typer(
    help="Challenges: close windows, see completion.", no_args_is_help=True
)


@challenges_app.command("close")
def challenges_close(program: ProgramOption = None) -> None:
    """Close every challenge whose window has ended: record the winners, pay the first N or
    top N. Running it again pays nobody twice."""
    from accolade.service import challenges as challenges_service

    store, key = open_program(program)
    closed = challenges_service.close(store, key)
    if not closed:
        out.print("no challenge to close")
    for c in closed:
        names = ", ".join(f"{w.rank}. {w.member}" for w in c.winners) or "nobody"
        out.print(f"closed {c.key} ({c.award}): {len(c.winners)} reached the goal; paid {c.paid}")
        out.print(f"  winners: {names}")


@challenges_app.command("stats")
def challenges_stats(
    challenge: Annotated[
        str | None, typer.Argument(help="A challenge key; all without it.")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Split by this member attribute (e.g. region).")
    ] = None,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """Members eligible (in the segment now), taking part and reaching each goal."""
    from accolade.service import challenges as challenges_service

    store, key = open_program(program)
    found = challenges_service.stats(store, key, challenge, by=by)
    if as_json:
        # one challenge named: that challenge, as GET /v1/challenges/{challenge} gives it
        print_json(found if challenge is None else found[0])
        return
    table = Table(
        "challenge",
        "status",
        "award",
        "eligible",
        "taking part",
        "reached",
        "completion",
        title="challenges",
    )
    for c in found:
        table.add_row(
            c.key,
            c.status,
            c.award,
            f"{c.eligible:,}",
            f"{c.participants:,}",
            f"{c.reached:,}",
            f"{c.completion_percent}%",
        )
    out.print(table)
    for c in found:
        if c.winners:
            out.print(f"{c.key} winners: {', '.join(c.winners)}")
        if by is not None:
            _print_segments(c, by)


def _print_segments(c: ChallengeStats, by: str) -> None:
    """A challenge split by the member attribute ``by``."""
    split = Table(by, "eligible", "taking part", "reached", "completion", title=c.key)
    for s in c.segments:
        split.add_row(
            "(not set)" if s.value is None else s.value,
            f"{s.eligible:,}",
            f"{s.participants:,}",
            f"{s.reached:,}",
            f"{s.completion_percent}%",
        )
    out.print(split)
