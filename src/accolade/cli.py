"""The `accolade` command: each command is a thin wrapper over a service function."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from accolade.cli_common import (
    JsonOption,
    ProgramOption,
    err,
    fails_cleanly,
    out,
    print_json,
)
from accolade.cli_common import load_settings as _settings
from accolade.cli_common import open_program as _open_program
from accolade.cli_common import open_store as _store
from accolade.cli_references import references_app
from accolade.cli_referrals import referrals_app
from accolade.cli_rewards import points_app, rewards_app
from accolade.errors import InvalidInput

if TYPE_CHECKING:
    from accolade.engine.streaks import StreakStatus
    from accolade.service.ingest import IngestReport
    from accolade.settings import Settings
    from accolade.store.unit_of_work import Store

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
)

app = typer.Typer(help="Accolade: points, badges and tiers for B2B programs.", no_args_is_help=True)
program_app = typer.Typer(
    help="Validate, publish, roll back and list program versions.", no_args_is_help=True
)
member_app = typer.Typer(help="Look at members.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
quests_app = typer.Typer(help="Quests: where members drop off.", no_args_is_help=True)
challenges_app = typer.Typer(
    help="Challenges: close windows, see completion.", no_args_is_help=True
)
app.add_typer(program_app, name="program")
app.add_typer(member_app, name="member")
app.add_typer(keys_app, name="keys")
app.add_typer(quests_app, name="quests")
app.add_typer(challenges_app, name="challenges")
leaderboards_app = typer.Typer(
    help="Leaderboards: pages, standings, closing windows.", no_args_is_help=True
)
app.add_typer(leaderboards_app, name="leaderboards")
app.add_typer(rewards_app, name="rewards")
app.add_typer(points_app, name="points")
app.add_typer(referrals_app, name="referrals")
app.add_typer(references_app, name="references")

EXAMPLES = Path("examples")


def _tune_gc_for_batch() -> None:
    """Ingest and replay allocate many short-lived containers per event while thousands of
    member states stay loaded; with the default thresholds the collector rescans those states
    again and again (about a third of ingest time, measured). Collect young objects less often."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


def _examples() -> Path:
    """The demo's folder: ./examples, or the one of the source checkout Accolade runs from."""
    for folder in (EXAMPLES, Path(__file__).resolve().parents[2] / "examples"):
        if (folder / "partner-program.yaml").is_file():
            return folder
    raise InvalidInput(
        "no examples/partner-program.yaml here: run from the Accolade checkout, or pass a file",
        field="examples",
    )


@app.command()
@fails_cleanly
def init(
    program_file: Annotated[
        Path | None,
        typer.Option("--program-file", help="Program to publish (default: the demo program)."),
    ] = None,
) -> None:
    """Create or upgrade the database and publish a program (the demo partner program by default)."""
    from accolade.program.loader import load_program_file
    from accolade.service import programs as program_service

    settings = _settings()
    store = _store(settings, migrate=True)
    path = program_file or _examples() / "partner-program.yaml"
    load_program_file(path)
    published = program_service.publish(store, path.read_text(encoding="utf-8"))
    state = "published as" if published.new else "already published as"
    out.print(f"database ready at {settings.database_url}")
    out.print(f"program [bold]{published.program}[/bold] {state} version {published.version}")


@app.command()
@fails_cleanly
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

    _tune_gc_for_batch()
    settings = _settings()
    store = _store(settings, migrate=True)
    published = program_service.publish(
        store, (_examples() / "partner-program.yaml").read_text(encoding="utf-8")
    )
    out.print(
        f"program [bold]{published.program}[/bold] version {published.version} on {settings.database_url}"
    )
    _ingest(
        store,
        published.program,
        events_file or _examples() / "partner-events.jsonl",
        None,
        None,
        settings.ingest_chunk_size,
    )
    _members_table(store, published.program, top)
    out.print(
        "\nnext: [bold]accolade member show partner-00000[/bold] · [bold]accolade explain partner-00000[/bold]"
    )
    if serve:
        key = keys_service.create_key(store, published.program, tuple(keys_service.SCOPES), "demo")
        url = f"http://{settings.host}:{settings.port}"
        out.print(f"\nAPI key for the demo (shown once): [bold]{key.key}[/bold]")
        out.print(f"try: curl -H 'Authorization: Bearer {key.key}' {url}/v1/members/partner-00000")
        _serve(settings, store, settings.host, settings.port, 1)


@app.command("serve")
@fails_cleanly
def serve_command(
    host: Annotated[str | None, typer.Option("--host", help="Default: ACCOLADE_HOST.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Default: ACCOLADE_PORT.")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Processes (default: ACCOLADE_WORKERS).")
    ] = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs); migrates the database first."""
    settings = _settings()
    store = _store(settings, migrate=True)
    _serve(
        settings,
        store,
        host or settings.host,
        port or settings.port,
        workers or settings.workers,
    )


def _serve(settings: Settings, store: Store, host: str, port: int, workers: int) -> None:
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


@app.command("openapi")
@fails_cleanly
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


@app.command("worker")
@fails_cleanly
def worker() -> None:
    """Deliver webhooks from the outbox until stopped (beside `serve` with
    ACCOLADE_DELIVER_WEBHOOKS=false, or several side by side on PostgreSQL)."""
    import signal
    import threading

    from accolade.integrations.webhooks import run_worker

    settings = _settings()
    store = _store(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    out.print(f"delivering webhooks from {settings.database_url} · Ctrl-C stops")
    run_worker(store, settings, stop=stop)


@keys_app.command("create")
@fails_cleanly
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

    store, key = _open_program(program)
    created = keys_service.create_key(store, key, keys_service.parse_scopes(scope), name)
    out.print(f"key for program [bold]{created.program}[/bold] ({' '.join(created.scopes)}):")
    out.print(created.key, soft_wrap=True)
    out.print("store it now: it is not shown again", style="dim")


@keys_app.command("list")
@fails_cleanly
def keys_list(program: ProgramOption = None, as_json: JsonOption = False) -> None:
    """The program's keys (never their secrets)."""
    from accolade.service import keys as keys_service

    store, key = _open_program(program)
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
@fails_cleanly
def keys_revoke(key_id: str) -> None:
    """Revoke a key (by its id, or the key itself); its member tokens stop working too."""
    from accolade.service import keys as keys_service

    store = _store(_settings())
    keys_service.revoke_key(store, key_id)
    out.print(f"key {key_id.removeprefix('acc_').split('_')[0]} revoked")


@program_app.command("validate")
@fails_cleanly
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
@fails_cleanly
def program_publish(file: Path) -> None:
    """Store a program file as a new immutable version and make it active."""
    from accolade.program.loader import load_program_file
    from accolade.service import programs as program_service

    load_program_file(file)
    published = program_service.publish(
        _store(_settings(), migrate=True), file.read_text(encoding="utf-8")
    )
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
@fails_cleanly
def program_rollback(
    program: ProgramOption = None,
    to: Annotated[
        int | None, typer.Option(help="Version to make active (default: the previous one).")
    ] = None,
) -> None:
    """Make an earlier version active again; events from now on are evaluated under it."""
    from accolade.service import programs as program_service

    store, key = _open_program(program)
    version = program_service.rollback(store, key, to)
    out.print(f"{key}: version {version} is active again")


@program_app.command("versions")
@fails_cleanly
def program_versions(program: ProgramOption = None, as_json: JsonOption = False) -> None:
    """List a program's versions; the active one is marked."""
    from accolade.service import programs as program_service

    store, key = _open_program(program)
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


@app.command()
@fails_cleanly
def ingest(
    file: Path,
    program: ProgramOption = None,
    format: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv (default: from the suffix).")
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected lines go (default: FILE.rejects.csv).")
    ] = None,
    chunk_size: Annotated[int | None, typer.Option(help="Events per transaction.")] = None,
) -> None:
    """Ingest events from a JSON Lines or CSV file, with a summary and a file of rejects."""
    _tune_gc_for_batch()
    store, key = _open_program(program)
    report = _ingest(store, key, file, format, rejects, chunk_size or _settings().ingest_chunk_size)
    if report.rejected:
        raise typer.Exit(1)


def _ingest(
    store: Store, key: str, file: Path, fmt: str | None, rejects: Path | None, chunk_size: int
) -> IngestReport:
    import csv
    from collections.abc import Sequence

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from accolade.service import ingest as ingest_service
    from accolade.service.sources import read_events

    records = read_events(file, fmt)
    rejects_path = rejects or file.with_name(file.name + ".rejects.csv")
    if not rejects_path.parent.is_dir():
        raise InvalidInput(
            f"no such folder for the rejects file: {rejects_path.parent}", field="rejects"
        )
    with file.open("rb") as handle:
        total = sum(1 for line in handle if line.strip()) - (
            1 if file.suffix.lower() == ".csv" else 0
        )
    writer: Any = None
    reject_handle = None
    columns = (
        TextColumn("ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task("ingest", total=max(total, 0))

            def on_chunk(outcomes: Sequence[ingest_service.Outcome]) -> None:
                nonlocal writer, reject_handle
                progress.advance(task, len(outcomes))
                for o in outcomes:
                    if o.error is None:
                        continue
                    if writer is None:
                        reject_handle = rejects_path.open("w", encoding="utf-8", newline="")
                        writer = csv.writer(reject_handle)
                        writer.writerow(["line", "event_id", "field", "reason"])
                    writer.writerow(
                        [o.position, o.event_id or "", o.error.field or "", o.error.message]
                    )

            report = ingest_service.ingest(
                store, key, records, chunk_size=chunk_size, on_chunk=on_chunk
            )
    finally:
        if reject_handle is not None:
            reject_handle.close()
    summary = Table(
        "accepted", "duplicate", "limited", "rejected", "points", title=f"ingested {file.name}"
    )
    summary.add_row(
        f"{report.accepted:,}",
        f"{report.duplicate:,}",
        f"{report.limited:,}",
        f"{report.rejected:,}",
        f"{report.points:,}",
    )
    out.print(summary)
    if report.rejected:
        err.print(
            f"[yellow]{report.rejected:,} rejected: line numbers and reasons in {rejects_path}[/yellow]"
        )
    return report


@member_app.command("show")
@fails_cleanly
def member_show(member: str, program: ProgramOption = None, as_json: JsonOption = False) -> None:
    """Balance, lifetime points, tier and benefits, badges and recent entries of a member."""
    from accolade.service import members as member_service

    store, key = _open_program(program)
    view = member_service.show(store, key, member)
    if as_json:
        print_json(view)
        return
    out.print(f"[bold]{view.member}[/bold]" + (f"  {view.company}" if view.company else ""))
    out.print(
        f"balance {view.balance:,} · lifetime {view.lifetime:,} · tier [bold]{view.tier_name or '-'}[/bold]"
    )
    if view.pending:
        out.print(f"{view.pending:,} of the balance pending (not spendable yet)")
    if view.next_tier:
        out.print(f"{view.points_to_next_tier:,} points to {view.next_tier}")
    if view.benefits:
        out.print("benefits: " + ", ".join(f"{k}={v}" for k, v in view.benefits.items()))
    if view.badges:
        out.print("badges: " + ", ".join(f"{b.name} {b.period}".strip() for b in view.badges))
    if view.stage is not None:
        stage = f"stage {view.stage.name} since {view.stage.entered_at:%Y-%m-%d}"
        if view.stage.next_step:
            stage += f" · next: {view.stage.next_step}"
        if view.stage.next_stage:
            stage += f" · {view.stage.next_stage.name} at: {view.stage.next_stage.how}"
        out.print(stage)
    if view.entitlements:
        out.print("entitlements: " + ", ".join(f"{k}={v}" for k, v in view.entitlements.items()))
    for quest in view.quests:
        bar = "█" * (quest.percent // 10) + "░" * (10 - quest.percent // 10)
        text = f"quest {quest.name}: {bar} {quest.done}/{quest.total} ({quest.status})"
        if quest.next_step is not None:
            text += f" · next: {quest.next_step.name}"
        out.print(text)
    for c in view.challenges:
        done = " · won" if c.won else " · goal reached" if c.reached_at else ""
        out.print(
            f"challenge {c.name} ({c.status}, until {c.ends_at:%Y-%m-%d}): "
            f"{c.percent}% of {c.goal}{done}"
        )
    for streak in view.streaks:
        out.print(_streak_line(streak))
    table = Table("when", "event", "kind", "rule", "points", "reason", title="recent entries")
    for line in view.recent:
        table.add_row(
            f"{line.occurred_at:%Y-%m-%d %H:%M}",
            line.event_id,
            line.kind,
            line.rule,
            f"{line.points:+,}",
            line.reason,
        )
    out.print(table)


@quests_app.command("funnel")
@fails_cleanly
def quests_funnel(
    quest: Annotated[str | None, typer.Argument(help="A quest key; all quests without it.")] = None,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """Members who started each quest, did each step and finished; drop-off per step."""
    from accolade.service import quests as quests_service

    store, key = _open_program(program)
    if quest is None:
        funnels = quests_service.funnels(store, key)
        if as_json:
            print_json(funnels)
            return
        table = Table("quest", "started", "completed", "completion", title="quests")
        for f in funnels:
            table.add_row(f.key, f"{f.started:,}", f"{f.completed:,}", f"{f.completion_percent}%")
        out.print(table)
        return
    found = quests_service.funnel(store, key, quest)
    if as_json:
        print_json(found)
        return
    since = "from the step before" if found.ordered else "from the start"
    table = Table(
        "step", "done", "drop-off", "drop-off %", f"median time {since}", title=found.name
    )
    for step in found.steps:
        table.add_row(
            f"{step.key} ({step.name})",
            f"{step.completed:,}",
            f"{step.drop_off:,}",
            f"{step.drop_off_percent}%",
            _duration(step.median_seconds),
        )
    out.print(table)
    out.print(
        f"started {found.started:,} · completed {found.completed:,} ({found.completion_percent}%)"
    )


@challenges_app.command("close")
@fails_cleanly
def challenges_close(program: ProgramOption = None) -> None:
    """Close every challenge whose window has ended: record the winners, pay the first N or
    top N. Running it again pays nobody twice."""
    from accolade.service import challenges as challenges_service

    store, key = _open_program(program)
    closed = challenges_service.close(store, key)
    if not closed:
        out.print("no challenge to close")
    for c in closed:
        names = ", ".join(f"{w.rank}. {w.member}" for w in c.winners) or "nobody"
        out.print(f"closed {c.key} ({c.award}): {len(c.winners)} reached the goal; paid {c.paid}")
        out.print(f"  winners: {names}")


@leaderboards_app.command("list")
@fails_cleanly
def leaderboards_list(program: ProgramOption = None, as_json: JsonOption = False) -> None:
    """Every leaderboard: what it ranks, by what, over which window, and its windows so far."""
    from accolade.service import leaderboards as leaderboards_service

    store, key = _open_program(program)
    boards = leaderboards_service.boards(store, key)
    if as_json:
        print_json(boards)
        return
    table = Table("board", "name", "ranks", "by", "window", "partition", "prize", "windows")
    for b in boards:
        table.add_row(
            b.key,
            b.name,
            b.subject,
            b.metric,
            b.window,
            ", ".join(b.partition) or "-",
            b.reward or "-",
            ", ".join(w.label + (" (closed)" if w.closed_at else "") for w in b.windows[-4:])
            or "-",
        )
    out.print(table)


WindowOption = Annotated[
    str | None,
    typer.Option(
        "--window", help="current (default), previous, or a label: 2026-W47, 2026-11, 2026-Q4."
    ),
]


@leaderboards_app.command("show")
@fails_cleanly
def leaderboards_show(
    board: Annotated[str, typer.Argument(help="The leaderboard's key.")],
    window: WindowOption = None,
    partition: Annotated[
        list[str] | None,
        typer.Option(
            "--partition", help="name=value for each partition attribute (region=EMEA, tier=gold)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows to show.")] = 10,
    offset: Annotated[int, typer.Option("--offset", help="Rows to skip.")] = 0,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """A page of a leaderboard: rank (ties share it), name, score."""
    from accolade.service import leaderboards as leaderboards_service

    store, key = _open_program(program)
    wanted: dict[str, str] = {}
    for pair in partition or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(
                f"'{pair}' is not name=value (e.g. region=EMEA)", field="--partition"
            )
        wanted[name] = value
    page = leaderboards_service.top(
        store, key, board, window=window, partition=wanted, limit=limit, offset=offset
    )
    if as_json:
        print_json(page)
        return
    where = ", ".join(f"{k}={v}" for k, v in page.partition.items())
    title = f"{page.name}: {_window_text(page.window.label)}" + (f" ({where})" if where else "")
    table = Table("rank", page.subject, "score", title=title)
    for r in page.rows:
        table.add_row(
            str(r.rank),
            r.name if r.name == r.subject else f"{r.name} ({r.subject})",
            f"{r.score:,}",
        )
    out.print(table)
    out.print(
        f"{page.total:,} ranked"
        + (f"; closed {page.window.closed_at:%Y-%m-%d %H:%M} UTC" if page.window.closed_at else "")
    )


@leaderboards_app.command("standing")
@fails_cleanly
def leaderboards_standing(
    board: Annotated[str, typer.Argument(help="The leaderboard's key.")],
    subject: Annotated[
        str, typer.Argument(help="A member id (a team or company on their boards).")
    ],
    window: WindowOption = None,
    around: Annotated[
        int, typer.Option("--around", help="Ranked subjects shown above and below.")
    ] = 5,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """Where a member (team, company) stands: rank, percentile, gap to the next rank, around."""
    from accolade.service import leaderboards as leaderboards_service

    store, key = _open_program(program)
    s = leaderboards_service.standing(store, key, board, subject, window=window, around=around)
    if as_json:
        print_json(s)
        return
    if s.partition is None:
        out.print(f"{subject} is outside {s.name}'s segment (score {s.score:,})")
        return
    if not s.ranked:
        out.print(
            f"{subject} is not ranked on {s.name} ({_window_text(s.window.label)}) yet "
            f"(score {s.score:,})"
        )
        return
    gap = "the top" if s.gap is None else f"{s.gap:,} points behind the next rank"
    hidden = " (hidden from others: opted out)" if not s.visible else ""
    out.print(
        f"{subject}: rank {s.rank:,} of {s.total:,} on {s.name} ({_window_text(s.window.label)}), "
        f"score {s.score:,}, top {100 * (s.rank or 0) / s.total:.1f}%, {gap}{hidden}"
    )
    table = Table("rank", "who", "score")
    for r in s.above:
        table.add_row(str(r.rank), r.name, f"{r.score:,}")
    table.add_row(f"[bold]{s.rank}[/bold]", f"[bold]{subject}[/bold]", f"[bold]{s.score:,}[/bold]")
    for r in s.below:
        table.add_row(str(r.rank), r.name, f"{r.score:,}")
    out.print(table)


def _window_text(label: str) -> str:
    return {"all": "all time", "rolling": "rolling window"}.get(label, label)


@leaderboards_app.command("close")
@fails_cleanly
def leaderboards_close(program: ProgramOption = None) -> None:
    """Roll rolling windows to today and close calendar windows that have ended: keep their
    final standings, pay their prizes once. Run it daily, after midnight (cron)."""
    from accolade.service import leaderboard_windows

    store, key = _open_program(program)
    report = leaderboard_windows.close_windows(store, key)
    for r in report.rolled:
        out.print(
            f"rolled {r.board}: the window starts {r.window.starts_at:%Y-%m-%d %H:%M} UTC; "
            f"{r.moved:,} scores moved"
        )
    for c in report.closed:
        out.print(f"closed {c.board} {c.window.label}: {c.partitions} partition(s); paid {c.paid}")
    if not report.rolled and not report.closed:
        out.print("nothing to roll or close")


@challenges_app.command("stats")
@fails_cleanly
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

    store, key = _open_program(program)
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


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _streak_line(s: StreakStatus) -> str:
    """``streak Daily learner: 5 days (longest 12) · done today · 1 freeze · ...``; freezes and
    grace only when the member has some."""

    def count(n: int, unit: str) -> str:
        return f"{n:,} {unit}" + ("" if n == 1 else "s")

    this = "today" if s.period == "day" else "this week"
    parts = [
        f"{count(s.current, s.period)} (longest {s.longest:,})",
        f"done {this}" if s.done else f"not done {this}",
    ]
    if s.freezes:
        parts.append(count(s.freezes, "freeze"))
    if s.grace_left:
        window = "week" if s.period == "day" else "month"
        parts.append(f"{count(s.grace_left, 'grace ' + s.period)} left this {window}")
    if s.next_milestone is not None and s.periods_to_next_milestone is not None:
        parts.append(
            f"{count(s.periods_to_next_milestone, s.period)} to the "
            f"{s.next_milestone}-{s.period} milestone"
        )
    return f"streak [bold]{s.name}[/bold]: " + " · ".join(parts)


@app.command()
@fails_cleanly
def explain(member: str, program: ProgramOption = None, as_json: JsonOption = False) -> None:
    """Every point of a member: event -> rule -> entry -> program version."""
    from accolade.service import members as member_service

    store, key = _open_program(program)
    lines = member_service.explain(store, key, member)
    if as_json:
        print_json(lines)
        return
    table = Table(
        "entry",
        "event",
        "type",
        "rule",
        "points",
        "lifetime",
        "version",
        "reason",
        title=f"{member}",
    )
    for line in lines:
        table.add_row(
            str(line.id),
            line.event_id,
            line.event_type,
            f"{line.rule} {line.period}".strip(),
            f"{line.points:+,}",
            f"{line.lifetime_points:+,}",
            f"v{line.version}",
            line.reason,
        )
    out.print(table)
    out.print(
        f"balance {sum(x.points for x in lines):,} · lifetime {sum(x.lifetime_points for x in lines):,}"
    )


@app.command()
@fails_cleanly
def reverse(
    event_id: str,
    reason: Annotated[str, typer.Option(help="Why: it is written on every compensating entry.")],
    program: ProgramOption = None,
) -> None:
    """Reverse an event: its points, badges and tier changes are compensated, with the reason."""
    from accolade.service import reverse as reverse_service

    store, key = _open_program(program)
    result = reverse_service.reverse(store, key, event_id, reason)
    if result["status"] == "duplicate":
        out.print(f"event {event_id} was already reversed for the same reason; nothing changed")
        return
    out.print(f"reversed {event_id}: {result['points']:+,} points")
    for entry in result.get("entries", []):
        out.print(
            f"  {entry['kind']:<13} {entry['rule']:<28} {entry['points']:+,}  {entry['reason']}"
        )


@app.command()
@fails_cleanly
def replay(program: ProgramOption = None) -> None:
    """Rebuild every ledger entry, badge and member state from the event log."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from accolade.service import replay as replay_service

    _tune_gc_for_batch()
    store, key = _open_program(program)
    with Progress(
        TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), console=err, transient=True
    ) as bar:
        task = bar.add_task("replay", total=None)
        report = replay_service.replay(
            store,
            key,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    out.print(
        f"replayed {report.events:,} events and {report.reversals:,} reversals for {report.members:,} members"
    )


@app.command("generate-events")
@fails_cleanly
def generate(
    output: Path,
    events: Annotated[int, typer.Option(min=1, help="How many events.")] = 2000,
    members: Annotated[int, typer.Option(min=1, help="Over how many members.")] = 60,
    seed: Annotated[int, typer.Option(help="Same seed, same file.")] = 7,
) -> None:
    """Write a reproducible JSON Lines stream of demo-program events."""
    from accolade.sample_events import generate_events

    with output.open("w", encoding="utf-8") as handle:
        for event in generate_events(events, members, seed=seed):
            handle.write(json.dumps(event, separators=(",", ":")) + "\n")
    out.print(f"wrote {events:,} events over {members:,} members to {output}")


def _members_table(store: Store, key: str, top: int) -> None:
    from accolade.service import members as member_service

    rows = member_service.table(store, key, top)
    total = member_service.count(store, key)
    table = Table(
        "member",
        "company",
        "lifetime",
        "balance",
        "tier",
        "badges",
        title=f"top {len(rows)} of {total:,} members",
    )
    for r in rows:
        table.add_row(
            r.member,
            r.company or "",
            f"{r.lifetime:,}",
            f"{r.balance:,}",
            r.tier or "",
            ", ".join(r.badges),
        )
    out.print(table)


if __name__ == "__main__":  # pragma: no cover
    app()
