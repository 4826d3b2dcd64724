"""`accolade points`: the daily expiry of points not spent in time."""

from __future__ import annotations

import typer

from accolade.cli.options import ProgramOption, open_program
from accolade.cli.output import count, out

points_app = typer.Typer(
    help="Points: the daily expiry of points not spent in time.", no_args_is_help=True
)


@points_app.command("expire")
def points_expire(program: ProgramOption = None) -> None:
    """Expire points not spent within the program's `points.expiry.after`, oldest first, and
    warn of what expires within `warn`. Daily, from cron; running it twice a day does nothing
    more."""
    from accolade.service import expiry as expiry_service

    store, key = open_program(program)
    done = expiry_service.expire_points(store, key)
    out.print(
        f"{done.points:,} points expired for {count(done.members, 'member')}; "
        f"{count(done.warned, 'member')} warned of points expiring soon"
    )
