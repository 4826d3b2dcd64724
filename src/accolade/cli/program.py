"""`accolade init` and `accolade program`: validate, publish, roll back and list versions, and
simulate a draft over the event log."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from accolade.cli.demo import examples_folder
from accolade.cli.options import (
    JsonOption,
    ProgramOption,
    load_settings,
    open_program,
    open_store,
)
from accolade.cli.output import count, err, out, print_json
from accolade.errors import InvalidInput

if TYPE_CHECKING:
    from accolade.service.simulate import Figure, Simulation

NotesOption = Annotated[
    str | None, typer.Option("--notes", help="Release notes: why this version goes live.")
]
ApprovedByOption = Annotated[
    str | None, typer.Option("--approved-by", help="Who approved the release.")
]

program_app = typer.Typer(
    help="Validate, publish, roll back and list program versions; simulate a draft.",
    no_args_is_help=True,
)


def init(
    program_file: Annotated[
        Path | None,
        typer.Option(
            "--program-file",
            help="Program to publish (default: the demo program, on a database without one).",
        ),
    ] = None,
) -> None:
    """Create or upgrade the database and publish a program: the one given, or the demo
    partner program when the database has none (an upgrade publishes nothing over the
    programs it holds)."""
    from accolade.program.loader import read_program_file
    from accolade.service import programs as program_service

    settings = load_settings()
    store = open_store(settings, migrate=True)
    held = program_service.program_keys(store)
    if program_file is None and held:
        out.print(f"database ready at {settings.database_url}")
        out.print(f"programs held: {', '.join(held)} (none published)")
        return
    source = read_program_file(program_file or examples_folder() / "partner-program.yaml")
    published = program_service.publish(
        store, source, require_simulation=settings.publish_requires_simulation
    )
    state = "published as" if published.new else "already published as"
    out.print(f"database ready at {settings.database_url}")
    out.print(f"program [bold]{published.program}[/bold] {state} version {published.version}")


@program_app.command("validate")
def program_validate(file: Path) -> None:
    """Check a program file; every error is listed with its path. Nothing is stored.

    Each action with a bonus gets a line with its expected bonus per rewarded event. Warnings
    (an assessment question that feeds nothing) are listed but do not make the file invalid."""
    from accolade.program.assessment_checks import assessment_warnings
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
    for warning in assessment_warnings(program):
        out.print(Text(f"warning: {warning}", style="yellow"), soft_wrap=True)


@program_app.command("publish")
def program_publish(
    file: Path, notes: NotesOption = None, approved_by: ApprovedByOption = None
) -> None:
    """Store a program file as a new immutable version and make it active, with its release
    record (notes, approver)."""
    from accolade.program.loader import read_program_file
    from accolade.service import programs as program_service
    from accolade.service.audit import CLI_ACTOR

    program_service.release_record(notes, approved_by)  # before the database is opened
    source = read_program_file(file)
    settings = load_settings()
    published = program_service.publish(
        open_store(settings, migrate=True),
        source,
        notes=notes,
        approved_by=approved_by,
        require_simulation=settings.publish_requires_simulation,
        actor=CLI_ACTOR,
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
def program_rollback(
    program: ProgramOption = None,
    to: Annotated[
        int | None, typer.Option(help="Version to make active (default: the previous one).")
    ] = None,
    notes: NotesOption = None,
    approved_by: ApprovedByOption = None,
) -> None:
    """Make an earlier version active again; events from now on are evaluated under it."""
    from accolade.service import programs as program_service
    from accolade.service.audit import CLI_ACTOR

    program_service.release_record(notes, approved_by)
    store, key = open_program(program)
    version = program_service.rollback(
        store,
        key,
        to,
        notes=notes,
        approved_by=approved_by,
        require_simulation=load_settings().publish_requires_simulation,
        actor=CLI_ACTOR,
    )
    out.print(f"{key}: version {version} is active again")


@program_app.command("versions")
def program_versions(program: ProgramOption = None, as_json: JsonOption = False) -> None:
    """List a program's versions, each with its latest release record; the active one is
    marked."""
    from accolade.service import programs as program_service

    store, key = open_program(program)
    versions = program_service.versions(store, key)
    if as_json:
        print_json(versions)
        return
    table = Table(
        "version",
        "hash",
        "created",
        "active",
        "released",
        "action",
        "approved by",
        "notes",
        title=f"program {key}",
    )
    for v in versions:
        table.add_row(
            str(v.version),
            v.hash[:12],
            f"{v.created_at:%Y-%m-%d %H:%M}",
            "●" if v.active else "",
            f"{v.released_at:%Y-%m-%d %H:%M}" if v.released_at else "",
            v.action or "",
            Text(v.approved_by or ""),  # Text: a name or a note is never Rich markup
            Text(v.notes or ""),
        )
    out.print(table)


@program_app.command("diff")
def program_diff(
    before: Annotated[
        int | None, typer.Argument(help="Version to compare from (default: the active one).")
    ] = None,
    after: Annotated[int | None, typer.Argument(help="Version to compare with.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A draft program file to compare with.")
    ] = None,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the rule changes from one version to another, or to a draft file."""
    from accolade.program.loader import read_program_file
    from accolade.service import programs as program_service

    if (after is None) == (file is None):
        raise InvalidInput("give a second version, or a draft with --file (not both)", field="to")
    draft = read_program_file(file) if file is not None else None
    store, key = open_program(program)
    found = program_service.diff(store, key, before, after, draft)
    if as_json:
        print_json(found)
        return
    target = f"version {found.to_version}" if found.to_version is not None else f"{file}"
    if not found.changes:
        out.print(f"{key}: no rule changes from version {found.from_version} to {target}")
        return
    out.print(
        f"{key}: {len(found.changes)} rule change{'s' if len(found.changes) != 1 else ''} "
        f"from version {found.from_version} to {target}"
    )
    for change in found.changes:
        out.print(change.text, soft_wrap=True, markup=False)


@program_app.command("simulate")
def program_simulate(
    file: Path,
    program: ProgramOption = None,
    since: Annotated[
        str | None,
        typer.Option("--from", help="Count the points of events from this date or time (UTC)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--to", help="... up to this date or time, excluded (UTC)."),
    ] = None,
    members: Annotated[
        list[str] | None,
        typer.Option("--member", help="A member to compare one by one (repeatable)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate the whole event log under a draft program file and show what would change;
    nothing live is written (only the record that the draft was simulated)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from accolade.cli.ingest import tune_gc_for_batch
    from accolade.program.loader import read_program_file
    from accolade.service import simulate as simulate_service

    source = read_program_file(file)
    start = None if since is None else simulate_service.moment(since, "from")
    end = None if until is None else simulate_service.moment(until, "to")
    tune_gc_for_batch()
    store, key = open_program(program)
    with Progress(
        TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), console=err, transient=True
    ) as bar:
        task = bar.add_task("simulate", total=None)
        result = simulate_service.simulate(
            store,
            key,
            source,
            since=start,
            until=end,
            members=members or (),
            on_progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        print_json(result)
        return
    print_simulation(result)


def print_simulation(result: Simulation) -> None:
    """The report as tables: only what a reader acts on (changed rows are bold)."""
    span = ""
    if result.since or result.until:
        start = f"{result.since:%Y-%m-%d %H:%M}" if result.since else "the start"
        end = f"{result.until:%Y-%m-%d %H:%M}" if result.until else "the end"
        span = f"; points of {result.counted:,} events from {start} to {end} (excluded)"
    out.print(
        f"simulated {result.program} draft {result.draft_hash[:12]} against active version "
        f"{result.active_version}: {count(result.events, 'event')} evaluated, "
        f"{result.reversed:,} reversed (skipped), {count(result.members, 'member')}{span}; "
        f"{result.seconds:.1f} s, {result.events_per_second:,.0f} events/s",
        soft_wrap=True,
    )
    for rejected in result.rejected:
        err.print(
            f"[yellow]{count(rejected.events, 'event')} of type {rejected.type} refused by "
            f"the draft: {rejected.reason}[/yellow]"
        )
    _figure_table("points issued", "rule", [*result.points, result.issued])
    _figure_table("members per tier", "tier", result.tiers)
    if result.tier_moves_total:
        out.print(f"{count(result.tier_moves_total, 'member')} would change tier:")
        for move in result.tier_moves:
            out.print(f"  {move.member}: {move.before or '-'} -> {move.after or '-'}")
        if result.tier_moves_total > len(result.tier_moves):
            out.print(f"  ... and {result.tier_moves_total - len(result.tier_moves):,} more")
    _badge_table(result)
    _figure_table("balances", "", [result.liability, result.overdrawn])
    _board_lines(result)
    _figure_table("members who reached the goal", "challenge", result.challenges_reached)
    _figure_table("members paid the reward", "challenge", result.challenges_won)
    for diff in result.member_details:
        table = Table("", "balance", "lifetime", "tier", "badges", title=f"member {diff.member}")
        for side, f in (("actual", diff.actual), ("simulated", diff.simulated)):
            table.add_row(
                side, f"{f.balance:,}", f"{f.lifetime:,}", f.tier or "-", ", ".join(f.badges)
            )
        out.print(table)


def _figure_table(title: str, what: str, figures: Sequence[Figure]) -> None:
    if not figures:
        return
    table = Table(what, "actual", "simulated", "delta", title=title)
    for f in figures:
        style = "bold" if f.delta else None
        table.add_row(f.key, f"{f.actual:,}", f"{f.simulated:,}", f"{f.delta:+,}", style=style)
    out.print(table)


def _badge_table(result: Simulation) -> None:
    if not result.badges:
        return
    table = Table("badge", "actual", "simulated", "delta", "gained", "lost", title="badge holders")
    for b in result.badges:
        table.add_row(
            b.key,
            f"{b.actual:,}",
            f"{b.simulated:,}",
            f"{b.delta:+,}",
            f"{b.gained:,}",
            f"{b.lost:,}",
            style="bold" if b.gained or b.lost else None,
        )
    out.print(table)
    for b in result.badges:
        for verb, shown, n in (
            ("gain", b.gained_members, b.gained),
            ("lose", b.lost_members, b.lost),
        ):
            if shown:
                more = f" and {n - len(shown):,} more" if n > len(shown) else ""
                out.print(f"{b.key}: would {verb} it: {', '.join(shown)}{more}", soft_wrap=True)


def _board_lines(result: Simulation) -> None:
    for board in result.leaderboards:
        where = f" {board.partition}" if board.partition else ""
        if not board.changed:
            out.print(f"leaderboard {board.key}{where}: top {len(board.actual)} unchanged")
            continue
        out.print(
            f"leaderboard {board.key}{where}: "
            + "; ".join(
                f"{name}: {', '.join(subjects)}"
                for name, subjects in (("enters", board.entered), ("leaves", board.left))
                if subjects
            )
            + (
                " (the same members, in another order)" if not (board.entered or board.left) else ""
            ),
            soft_wrap=True,
        )
