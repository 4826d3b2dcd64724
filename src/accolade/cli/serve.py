"""`accolade serve`, `openapi` and `worker`: the HTTP API, its OpenAPI document, and the
process that delivers webhooks beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from accolade.cli.options import load_settings, open_store
from accolade.cli.output import out

if TYPE_CHECKING:
    from accolade.settings import Settings
    from accolade.store.unit_of_work import Store


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Default: ACCOLADE_HOST.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Default: ACCOLADE_PORT.")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Processes (default: ACCOLADE_WORKERS).")
    ] = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs); migrates the database first."""
    settings = load_settings()
    store = open_store(settings, migrate=True)
    serve_api(
        settings,
        store,
        host or settings.host,
        port or settings.port,
        workers or settings.workers,
    )


def serve_api(settings: Settings, store: Store, host: str, port: int, workers: int) -> None:
    """Run the API until stopped: in this process, or in ``workers`` processes of their own."""
    import uvicorn

    from accolade.api.app import create_app

    out.print(
        f"Accolade API on [bold]http://{host}:{port}[/bold] · docs at http://{host}:{port}/docs"
        f" · {settings.database_url} · Ctrl-C stops it"
    )
    if workers == 1:
        uvicorn.run(create_app(settings, store), host=host, port=port, log_level="warning")
        return
    from accolade.service.keys import server_secret

    # Each worker resolves the secret again; a missing one is one error here, not one per worker.
    given = settings.secret_key
    server_secret(given.get_secret_value() if given else None, store.engine.url)
    store.close()  # each worker process opens its own (settings come from the environment)
    uvicorn.run(
        "accolade.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


def openapi(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write.")] = None,
) -> None:
    """Print the API's OpenAPI document (JSON); docs/openapi.json is this output."""
    from accolade.api.app import openapi_document

    text = json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {output}")


def worker() -> None:
    """Deliver webhooks from the outbox until stopped (beside `serve` with
    ACCOLADE_DELIVER_WEBHOOKS=false, or several side by side on PostgreSQL)."""
    import signal
    import threading

    from accolade.integrations.webhooks import run_worker

    settings = load_settings()
    store = open_store(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    out.print(f"delivering webhooks from {settings.database_url} · Ctrl-C stops")
    run_worker(store, settings, stop=stop)
