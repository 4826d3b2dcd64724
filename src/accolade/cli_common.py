"""What every `accolade` command shares: the consoles, the program and --json options, clean
errors, and opening the database and the program a command works on.

Start-up: the `accolade` modules import only Typer, Rich's console and `accolade.errors` at the
top; settings, the store (SQLAlchemy), the services and pydantic are imported by the commands
that use them, so `accolade --help` or a read starts without loading what it does not need
(tests/cli/test_cli_startup.py keeps FastAPI, uvicorn and Alembic out; bench/cli_startup.py
times it)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from accolade.errors import AccoladeError, InvalidInput, InvalidProgram

if TYPE_CHECKING:
    from accolade.settings import Settings
    from accolade.store.unit_of_work import Store

# Piped output (CI logs, files) gets room for a members table instead of Rich's 80 columns.
out = Console(highlight=False, width=None if Console().is_terminal else 160)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # an error stays one line

P = ParamSpec("P")
R = TypeVar("R")

ProgramOption = Annotated[
    str | None,
    typer.Option(
        "--program", "-p", help="Program key (default: ACCOLADE_PROGRAM or the only one)."
    ),
]
JsonOption = Annotated[
    bool,
    typer.Option(
        "--json", help="Print JSON instead of tables: the API's shape for the same thing."
    ),
]


def fails_cleanly(command: Callable[P, R]) -> Callable[P, R]:
    """Accolade errors become one red line naming the field, and exit code 2."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except InvalidProgram as exc:
            for error in exc.errors:
                err.print(f"[red]error:[/red] {error}")
            raise typer.Exit(2) from None
        except AccoladeError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None

    return run


def print_json(value: object) -> None:
    """A service's result (its dataclasses and pydantic models) as JSON on standard output,
    serialised the way the API serialises its responses (pydantic's JSON mode: times in ISO
    8601, decimal amounts as strings), one document, keys in the order the API gives them."""
    from pydantic_core import to_jsonable_python

    typer.echo(json.dumps(to_jsonable_python(value), indent=2, ensure_ascii=False))


def load_settings() -> Settings:
    from pydantic import ValidationError

    from accolade.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "ACCOLADE_" + "_".join(str(p) for p in error["loc"]).upper()
        raise InvalidInput(str(error["msg"]).lower(), field=name) from None


def open_store(settings: Settings, *, migrate: bool = False) -> Store:
    """The database; only init and demo create or migrate it, other commands require it ready."""
    from accolade.store.unit_of_work import Store

    return Store.open(
        settings.database_url,
        echo=settings.echo_sql,
        migrate_schema=migrate,
        pool_size=settings.db_pool_size,
    )


def open_program(program: str | None) -> tuple[Store, str]:
    """The database and the program a command works on (named, from settings, or the only one)."""
    from accolade.service import programs as program_service

    settings = load_settings()
    store = open_store(settings)
    return store, program_service.resolve_key(store, program or settings.program)
