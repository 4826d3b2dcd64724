"""`accolade demo`: the demo program set up, its events ingested, its members shown and the API
served on it; and where the demo's files are."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from accolade.cli.ingest import ingest_file, tune_gc_for_batch
from accolade.cli.members import print_members_table
from accolade.cli.options import load_settings, open_store
from accolade.cli.output import out
from accolade.cli.serve import serve_api
from accolade.errors import InvalidInput

if TYPE_CHECKING:
    from accolade.settings import Settings
    from accolade.store.unit_of_work import Store

EXAMPLES = Path("examples")


def examples_folder() -> Path:
    """The demo's folder: ./examples, or the one of the source checkout Accolade runs from."""
    for folder in (EXAMPLES, Path(__file__).resolve().parents[3] / "examples"):
        if (folder / "partner-program.yaml").is_file():
            return folder
    raise InvalidInput(
        "no examples/partner-program.yaml here: run from the Accolade checkout, or pass a file",
        field="examples",
    )


def demo(
    events_file: Annotated[
        Path | None,
        typer.Option("--events", help="Events to ingest (default: examples/partner-events.jsonl)."),
    ] = None,
    top: Annotated[int, typer.Option(help="Members to list.")] = 15,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve", help="Then start the API on the demo (with a new API key)."
        ),
    ] = True,
) -> None:
    """Set up the demo program, ingest its events, show members, tiers and badges, and serve
    the API on it."""
    from accolade.service import keys as keys_service
    from accolade.service import programs as program_service

    tune_gc_for_batch()
    settings = load_settings()
    store = open_store(settings, migrate=True)
    published = program_service.publish(
        store, (examples_folder() / "partner-program.yaml").read_text(encoding="utf-8")
    )
    out.print(
        f"program [bold]{published.program}[/bold] version {published.version} on {settings.database_url}"
    )
    ingest_file(
        store,
        published.program,
        events_file or examples_folder() / "partner-events.jsonl",
        None,
        None,
        settings.ingest_chunk_size,
    )
    print_members_table(store, published.program, top)
    out.print(
        "\nnext: [bold]accolade member show partner-00000[/bold] · [bold]accolade explain partner-00000[/bold]"
    )
    url = f"http://{settings.host}:{settings.port}"
    demo_admin(store, url)
    if serve:
        key = keys_service.create_key(store, published.program, tuple(keys_service.SCOPES), "demo")
        out.print(f"\nAPI key for the demo (shown once): [bold]{key.key}[/bold]")
        out.print(f"try: curl -H 'Authorization: Bearer {key.key}' {url}/v1/members/partner-00000")
        out.print(
            f"member portal of partner-00000 (the link works for 24 hours): "
            f"{url}{portal_link(store, settings, key.key, 'partner-00000')}",
            soft_wrap=True,
        )
        serve_api(settings, store, settings.host, settings.port, 1)


DEMO_ADMIN = "admin@demo.accolade.test"


def demo_admin(store: Store, url: str) -> None:
    """Create the demo's console admin with a new password, and say how to sign in; a demo
    run again keeps the admin (and the password printed the first time)."""
    import secrets

    from accolade.errors import Conflict
    from accolade.service import console_users

    password = secrets.token_urlsafe(12)
    try:
        console_users.create_user(store, DEMO_ADMIN, "admin", password, "Demo admin")
    except Conflict:
        out.print(
            f"\nadmin console: {url}/console/signin as [bold]{DEMO_ADMIN}[/bold] (its "
            "password was printed by the first `accolade demo` on this database)",
            soft_wrap=True,
        )
        return
    out.print(
        f"\nadmin console: {url}/console/signin as [bold]{DEMO_ADMIN}[/bold] "
        f"with password [bold]{password}[/bold] (shown once)",
        soft_wrap=True,
    )


def portal_link(store: Store, settings: Settings, api_key: str, member: str) -> str:
    """The link a host app would hand ``member``: /portal/enter with a day-long member token
    minted by the demo's key."""

    from accolade.service import keys as keys_service

    given = settings.secret_key
    secret = keys_service.server_secret(
        given.get_secret_value() if given else None, store.engine.url
    )
    principal = keys_service.authenticate(store, api_key, secret=secret)
    token, _ = keys_service.mint_member_token(
        store, principal, member, keys_service.MAX_TOKEN_TTL, secret=secret
    )
    return f"/portal/enter?token={token}"
