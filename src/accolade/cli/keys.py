"""`accolade keys`: create, list and revoke API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accolade.cli.options import (
    JsonOption,
    ProgramOption,
    load_settings,
    open_program,
    open_store,
)
from accolade.cli.output import out, print_json

# The scopes `keys create --scope` takes, as accolade.service.keys.SCOPES lists them: written
# out so that the help does not load the services (tests/cli/test_cli_startup.py keeps them
# equal).
SCOPES = (
    "events:write",
    "members:read",
    "members:write",
    "program:admin",
    "rewards:write",
    "rewards:admin",
    "referrals:write",
    "references:write",
    "webhooks:admin",
    "analytics:read",
)

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    scope: Annotated[
        str,
        typer.Option(
            "--scope",
            help="Comma-separated: " + ", ".join(SCOPES) + ".",
        ),
    ],
    program: ProgramOption = None,
    name: Annotated[str, typer.Option("--name", help="What the key is for.")] = "",
) -> None:
    """Create an API key for one program; it is shown once and stored hashed."""
    from accolade.service import keys as keys_service

    store, key = open_program(program)
    created = keys_service.create_key(store, key, keys_service.parse_scopes(scope), name)
    out.print(f"key for program [bold]{created.program}[/bold] ({' '.join(created.scopes)}):")
    out.print(created.key, soft_wrap=True)
    out.print("store it now: it is not shown again", style="dim")


@keys_app.command("list")
def keys_list(program: ProgramOption = None, as_json: JsonOption = False) -> None:
    """The program's keys (never their secrets)."""
    from accolade.service import keys as keys_service

    store, key = open_program(program)
    keys = keys_service.list_keys(store, key)
    if as_json:
        print_json(keys)
        return
    table = Table("key id", "name", "scopes", "created", "revoked", title=f"keys of {key}")
    for k in keys:
        table.add_row(
            k.key_id,
            k.name,
            " ".join(k.scopes),
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key (by its id, or the key itself); its member tokens stop working too."""
    from accolade.service import keys as keys_service

    store = open_store(load_settings())
    keys_service.revoke_key(store, key_id)
    out.print(f"key {key_id.removeprefix('acc_').split('_')[0]} revoked")
