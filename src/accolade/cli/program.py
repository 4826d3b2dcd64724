"""`accolade init` and `accolade program`: validate, publish, roll back and list versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from accolade.cli.demo import examples_folder
from accolade.cli.options import (
    JsonOption,
    ProgramOption,
    load_settings,
    open_program,
    open_store,
)
from accolade.cli.output import out, print_json

program_app = typer.Typer(
    help="Validate, publish, roll back and list program versions.", no_args_is_help=True
)


def init(
    program_file: Annotated[
        Path | None,
        typer.Option("--program-file", help="Program to publish (default: the demo program)."),
    ] = None,
) -> None:
    """Create or upgrade the database and publish a program (the demo partner program by default)."""
    from accolade.program.loader import read_program_file
    from accolade.service import programs as program_service

    settings = load_settings()
    store = open_store(settings, migrate=True)
    source = read_program_file(program_file or examples_folder() / "partner-program.yaml")
    published = program_service.publish(store, source)
    state = "published as" if published.new else "already published as"
    out.print(f"database ready at {settings.database_url}")
    out.print(f"program [bold]{published.program}[/bold] {state} version {published.version}")


@program_app.command("validate")
def program_validate(file: Path) -> None:
    """Check a program file; every error is listed with its path. Nothing is stored.

    Each action with a bonus gets a line with its expected bonus per rewarded event."""
    from accolade.program.compile import compile_program
    from accolade.program.loader import load_program_file

    program = load_program_file(file)
    out.print(
        f"[green]valid:[/green] {program.key} ({len(program.actions)} actions, "
        f"{len(program.badges)} badges, {len(program.tiers)} tiers)"
    )
    for action in compile_program(program).actions.values():
        if action.bonus is not None:
            out.print(f"{action.key}: {action.bonus.summary()}", soft_wrap=True)


@program_app.command("publish")
def program_publish(file: Path) -> None:
    """Store a program file as a new immutable version and make it active."""
    from accolade.program.loader import read_program_file
    from accolade.service import programs as program_service

    source = read_program_file(file)
    published = program_service.publish(open_store(load_settings(), migrate=True), source)
    if published.new:
        out.print(
            f"published {published.program} version {published.version} ({published.hash[:12]})"
        )
    elif published.reactivated:
        out.print(
            f"{published.program}: same content as version {published.version}, which is active again"
        )
    else:
        out.print(
            f"unchanged: {published.program} version {published.version} is active ({published.hash[:12]})"
        )


@program_app.command("rollback")
def program_rollback(
    program: ProgramOption = None,
    to: Annotated[
        int | None, typer.Option(help="Version to make active (default: the previous one).")
    ] = None,
) -> None:
    """Make an earlier version active again; events from now on are evaluated under it."""
    from accolade.service import programs as program_service

    store, key = open_program(program)
    version = program_service.rollback(store, key, to)
    out.print(f"{key}: version {version} is active again")


@program_app.command("versions")
def program_versions(program: ProgramOption = None, as_json: JsonOption = False) -> None:
    """List a program's versions; the active one is marked."""
    from accolade.service import programs as program_service

    store, key = open_program(program)
    versions = program_service.versions(store, key)
    if as_json:
        print_json(versions)
        return
    table = Table("version", "hash", "published", "active", title=f"program {key}")
    for v in versions:
        table.add_row(
            str(v.version), v.hash[:12], f"{v.created_at:%Y-%m-%d %H:%M}", "●" if v.active else ""
        )
    out.print(table)
