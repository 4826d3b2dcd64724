"""`accolade users`: create and list the admin console's users."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from accolade.cli.options import JsonOption, load_settings, open_store
from accolade.cli.output import out, print_json

# The roles `users create --role` takes, as accolade.service.console_users.ROLES lists them:
# written out so that the help does not load the services.
ROLES = ("viewer", "operator", "admin")

users_app = typer.Typer(help="Create and list the admin console's users.", no_args_is_help=True)


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="The user's email: what they sign in with.")],
    role: Annotated[
        str,
        typer.Option("--role", help="One of " + ", ".join(ROLES) + "."),
    ],
    name: Annotated[str, typer.Option("--name", help="The user's name (default: the email).")] = "",
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from the first line of standard input instead of asking.",
        ),
    ] = False,
) -> None:
    """Create a console user; the password is asked twice, hidden (at least 12 characters)."""
    from accolade.service import console_users

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    store = open_store(load_settings())
    user = console_users.create_user(store, email, role, password, name)
    out.print(f"console user [bold]{user.email}[/bold] created ({user.role})")


@users_app.command("list")
def users_list(as_json: JsonOption = False) -> None:
    """The console users: email, name, role, when created; locked or disabled ones marked."""
    from accolade.service import console_users

    store = open_store(load_settings())
    users = console_users.list_users(store)
    if as_json:
        print_json(users)
        return
    table = Table("email", "name", "role", "created", "locked until", "disabled", title="users")
    for u in users:
        table.add_row(
            u.email,
            u.name,
            u.role,
            f"{u.created_at:%Y-%m-%d %H:%M}",
            f"{u.locked_until:%Y-%m-%d %H:%M}" if u.locked_until else "",
            f"{u.disabled_at:%Y-%m-%d %H:%M}" if u.disabled_at else "",
        )
    out.print(table)
