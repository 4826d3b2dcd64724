"""`accolade leaderboards`: the boards, a page of one, where a member stands, closing windows."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accolade.cli.options import JsonOption, LimitOption, ProgramOption, open_program
from accolade.cli.output import out, print_json
from accolade.errors import InvalidInput

leaderboards_app = typer.Typer(
    help="Leaderboards: pages, standings, closing windows.", no_args_is_help=True
)
WindowOption = Annotated[
    str | None,
    typer.Option(
        "--window", help="current (default), previous, or a label: 2026-W47, 2026-11, 2026-Q4."
    ),
]
BoardArgument = Annotated[str, typer.Argument(help="The leaderboard's key.")]


@leaderboards_app.command("list")
def leaderboards_list(program: ProgramOption = None, as_json: JsonOption = False) -> None:
    """Every leaderboard: what it ranks, by what, over which window, and its windows so far."""
    from accolade.service import leaderboards as leaderboards_service

    store, key = open_program(program)
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


@leaderboards_app.command("show")
def leaderboards_show(
    board: BoardArgument,
    window: WindowOption = None,
    partition: Annotated[
        list[str] | None,
        typer.Option(
            "--partition", help="name=value for each partition attribute (region=EMEA, tier=gold)."
        ),
    ] = None,
    limit: LimitOption = 10,
    offset: Annotated[int, typer.Option("--offset", help="Rows to skip.")] = 0,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """A page of a leaderboard: rank (ties share it), name, score."""
    from accolade.service import leaderboards as leaderboards_service

    store, key = open_program(program)
    page = leaderboards_service.top(
        store,
        key,
        board,
        window=window,
        partition=_partition(partition or []),
        limit=limit,
        offset=offset,
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


def _partition(pairs: list[str]) -> dict[str, str]:
    """``--partition region=EMEA`` options as {attribute: value}."""
    wanted: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(
                f"'{pair}' is not name=value (e.g. region=EMEA)", field="--partition"
            )
        wanted[name] = value
    return wanted


@leaderboards_app.command("standing")
def leaderboards_standing(
    board: BoardArgument,
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

    store, key = open_program(program)
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
def leaderboards_close(program: ProgramOption = None) -> None:
    """Roll rolling windows to today and close calendar windows that have ended: keep their
    final standings, pay their prizes once. Run it daily, after midnight (cron)."""
    from accolade.service import leaderboard_windows

    store, key = open_program(program)
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
