"""`accolade references`: request references, ask advocates, record their answers."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from accolade.cli.options import JsonOption, ProgramOption, open_program
from accolade.cli.output import out, print_json
from accolade.errors import InvalidInput

if TYPE_CHECKING:
    from accolade.service.references import Candidate, ReferenceRequest

references_app = typer.Typer(
    help="Reference requests: matching advocates without asking the same ones every time.",
    no_args_is_help=True,
)
CriteriaOption = Annotated[
    list[str] | None,
    typer.Option(
        "--criteria",
        "-c",
        help="name=value, or name=a,b for any of several (industry=fintech, tier=gold); "
        "repeat for several.",
    ),
]
CountOption = Annotated[int, typer.Option("--count", help="How many candidates (1-50).")]


@references_app.command("match")
def references_match(
    criteria: CriteriaOption = None,
    count: CountOption = 5,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """The advocates a request would get now, ranked; records nothing."""
    from accolade.service import references as references_service

    store, key = open_program(program)
    found = references_service.match(store, key, _criteria(criteria or []), count=count)
    if as_json:
        print_json(found)
        return
    _candidates(found)


@references_app.command("request")
def references_request(
    criteria: CriteriaOption = None,
    count: CountOption = 5,
    by: Annotated[str | None, typer.Option("--by", help="The sales rep (default: you).")] = None,
    note: Annotated[str | None, typer.Option("--note", help="The deal, the ask.")] = None,
    request_id: Annotated[str | None, typer.Option("--id", help="Your id for it.")] = None,
    program: ProgramOption = None,
) -> None:
    """Record a request for references and list its ranked candidates."""
    from accolade.service import references as references_service

    store, key = open_program(program)
    made = references_service.request(
        store,
        key,
        _criteria(criteria or []),
        requested_by=by or getpass.getuser(),
        count=count,
        note=note,
        request_id=request_id,
    )
    out.print(f"{'already requested: ' if made.duplicate else ''}{made.request_id}")
    _candidates(made.candidates)


@references_app.command("ask")
def references_ask(
    request_id: Annotated[str, typer.Argument(help="The request's id.")],
    members: Annotated[list[str], typer.Argument(help="The advocates to ask.")],
    program: ProgramOption = None,
) -> None:
    """Ask advocates for a request; one over a fatigue limit, or opted out, is refused."""
    from accolade.service import references as references_service

    store, key = open_program(program)
    _asks(references_service.ask(store, key, request_id, members))


@references_app.command("answer")
def references_answer(
    request_id: Annotated[str, typer.Argument(help="The request's id.")],
    member: Annotated[str, typer.Argument(help="The advocate.")],
    answer: Annotated[str, typer.Argument(help="accept, decline or complete.")],
    program: ProgramOption = None,
) -> None:
    """Record an advocate's answer; accepting and completing pay what the program says."""
    from accolade.service import references as references_service

    store, key = open_program(program)
    done = references_service.answer(store, key, request_id, member, answer)
    out.print(f"{member}: {done.status}")
    if done.sent:
        out.print("sent " + ", ".join(done.sent))


@references_app.command("show")
def references_show(
    request_id: Annotated[str, typer.Argument(help="The request's id.")],
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """A request: who asked for what, the advocates asked and their answers."""
    from accolade.service import references as references_service

    store, key = open_program(program)
    made = references_service.reference_request(store, key, request_id)
    if as_json:
        print_json(made)
        return
    criteria = ", ".join(f"{k}={v}" for k, v in made.criteria.items()) or "(any)"
    out.print(f"{made.request_id} by {made.requested_by} on {made.created_at:%Y-%m-%d}: {criteria}")
    if made.note:
        out.print(made.note)
    _asks(made)


def _criteria(pairs: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"'{pair}' is not name=value", field="criteria")
        values = [v.strip() for v in value.split(",") if v.strip()]
        found[name.strip()] = values if len(values) != 1 else values[0]
    return found


def _candidates(found: list[Candidate]) -> None:
    table = Table("rank", "advocate", "tier", "asked", "last asked")
    for c in found:
        table.add_row(
            str(c.rank),
            f"{c.name} ({c.member})" if c.name else c.member,
            c.tier or "-",
            str(c.asked),
            f"{c.last_asked_at:%Y-%m-%d}" if c.last_asked_at else "never",
        )
    out.print(table)
    if not found:
        out.print("nobody matches (or everyone who does is at a limit, or opted out)")


def _asks(made: ReferenceRequest) -> None:
    table = Table("advocate", "status", "asked")
    for a in made.asks:
        table.add_row(a.member, a.status, f"{a.asked_at:%Y-%m-%d}")
    out.print(table)
