"""The options every command shares (--program, --json) and what they resolve to: the
settings, the database and the program a command works on.

Start-up: the `accolade.cli` modules import only Typer, Rich's console and `accolade.errors` at
the top; settings, the store (SQLAlchemy), the services and pydantic are imported by the
commands that use them, so `accolade --help` or a read starts without loading what it does not
need (tests/cli/test_cli_startup.py keeps FastAPI, uvicorn and Alembic out; bench/cli_startup.py
times it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from accolade.errors import InvalidInput

if TYPE_CHECKING:
    from accolade.settings import Settings
    from accolade.store.unit_of_work import Store

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

LimitOption = Annotated[int, typer.Option("--limit", help="Rows to show.")]


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
    """The database; init, demo, serve and `program publish` create or migrate it, other
    commands require it ready."""
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
