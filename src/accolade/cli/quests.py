"""`accolade quests`: where members drop off."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accolade.cli.options import JsonOption, ProgramOption, open_program
from accolade.cli.output import out, print_json

quests_app = typer.Typer(help="Quests: where members drop off.", no_args_is_help=True)


@quests_app.command("funnel")
def quests_funnel(
    quest: Annotated[str | None, typer.Argument(help="A quest key; all quests without it.")] = None,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """Members who started each quest, did each step and finished; drop-off per step."""
    from accolade.service import quests as quests_service

    store, key = open_program(program)
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


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
