"""`accolade rewards`: the catalogue, redeeming, the approval queue, decisions, code pools."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from accolade.cli.options import JsonOption, LimitOption, ProgramOption, open_program
from accolade.cli.output import out, print_json
from accolade.errors import InvalidInput

if TYPE_CHECKING:
    from accolade.service.redemptions import Redemption

rewards_app = typer.Typer(
    help="Rewards: the catalogue, redemptions and their approval, code pools.",
    no_args_is_help=True,
)
NoteOption = Annotated[
    str | None, typer.Option("--note", help="Why, or a tracking note (a rejection's reason).")
]
ByOption = Annotated[
    str | None, typer.Option("--by", help="Who decides (default: the logged-in user).")
]


@rewards_app.command("list")
def rewards_list(
    member: Annotated[
        str | None,
        typer.Option("--member", help="Only what this member may redeem, and whether now."),
    ] = None,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """The catalogue: price, value, fulfilment, what is left; for a member, what they can have."""
    from accolade.service import rewards as rewards_service

    store, key = open_program(program)
    items = rewards_service.catalogue(store, key, member)
    if as_json:
        print_json(items)
        return
    table = Table("reward", "name", "price", "value", "fulfilment", "approval", "left")
    if member is not None:
        table.add_column("for " + member)
    for i in items:
        value = f"{i.value['amount'] / 100:,.2f} {i.value['currency']}" if i.value else "-"
        row = [
            i.key,
            i.name,
            f"{i.price:,}",
            value,
            i.fulfilment,
            "yes" if i.approval else "-",
            "unlimited" if i.left is None else f"{i.left:,}",
        ]
        if member is not None:
            row.append(
                "[green]can redeem[/green]" if i.redeemable else f"[yellow]{i.reason}[/yellow]"
            )
        table.add_row(*row)
    out.print(table)
    if not items:
        out.print("the catalogue is empty" if member is None else f"nothing {member} may redeem")


@rewards_app.command("redeem")
def rewards_redeem(
    member: Annotated[str, typer.Argument(help="The member who redeems.")],
    reward: Annotated[str, typer.Argument(help="The catalogue item's key.")],
    redemption_id: Annotated[
        str | None,
        typer.Option("--id", help="Your id for it: the same id again redeems nothing more."),
    ] = None,
    program: ProgramOption = None,
) -> None:
    """Redeem an item for a member: debits their balance (never their tier), takes stock."""
    from accolade.service import rewards as rewards_service

    store, key = open_program(program)
    done = rewards_service.redeem(store, key, member, reward, redemption_id=redemption_id)
    _print(done)


@rewards_app.command("redemptions")
def rewards_redemptions(
    member: Annotated[str | None, typer.Option("--member", help="One member's history.")] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="requested (the approval queue), approved, fulfilled..."),
    ] = None,
    limit: LimitOption = 50,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """Redemptions, newest first."""
    from accolade.service import redemptions as redemptions_service

    store, key = open_program(program)
    page = redemptions_service.redemptions(store, key, member=member, status=status, limit=limit)
    if as_json:
        print_json(page)
        return
    table = Table("redemption", "member", "reward", "price", "status", "requested", "by", "note")
    for r in page.items:
        table.add_row(
            r.redemption_id,
            r.member,
            r.reward,
            f"{r.price:,}",
            r.status,
            f"{r.requested_at:%Y-%m-%d %H:%M}",
            r.decided_by or "-",
            r.note or "-",
        )
    out.print(table)
    if page.next_before is not None:
        out.print(f"more: showing the newest {limit}")


def _decide(
    decision: str, redemption_id: str, note: str | None, by: str | None, program: str | None
) -> None:
    from accolade.service import redemptions as redemptions_service

    store, key = open_program(program)
    who = by or getpass.getuser()
    _print(redemptions_service.decide(store, key, redemption_id, decision, by=who, note=note))


@rewards_app.command("approve")
def rewards_approve(
    redemption_id: str, note: NoteOption = None, by: ByOption = None, program: ProgramOption = None
) -> None:
    """Approve a requested redemption (a code item hands out its code)."""
    _decide("approve", redemption_id, note, by, program)


@rewards_app.command("fulfil")
def rewards_fulfil(
    redemption_id: str, note: NoteOption = None, by: ByOption = None, program: ProgramOption = None
) -> None:
    """Mark an approved redemption fulfilled (shipped, donated, delivered)."""
    _decide("fulfil", redemption_id, note, by, program)


@rewards_app.command("reject")
def rewards_reject(
    redemption_id: str, note: NoteOption = None, by: ByOption = None, program: ProgramOption = None
) -> None:
    """Reject a redemption: the points come back, and the stock and the code."""
    _decide("reject", redemption_id, note, by, program)


@rewards_app.command("cancel")
def rewards_cancel(
    redemption_id: str, note: NoteOption = None, by: ByOption = None, program: ProgramOption = None
) -> None:
    """Cancel a redemption not yet fulfilled: the points come back, and the stock and the code."""
    _decide("cancel", redemption_id, note, by, program)


@rewards_app.command("codes")
def rewards_codes(
    reward: Annotated[str, typer.Argument(help="A code item's key.")],
    file: Annotated[str, typer.Argument(help="One code per line; - for standard input.")],
    program: ProgramOption = None,
) -> None:
    """Add unique codes to a code item's pool; codes already there are left as they are."""
    if file == "-":
        text = sys.stdin.read()
    else:
        path = Path(file)
        if not path.is_file():
            raise InvalidInput(f"no file '{file}'", field="file")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"'{file}' is not UTF-8 text", field="file") from None
    from accolade.service import rewards as rewards_service

    store, key = open_program(program)
    added, free = rewards_service.add_codes(store, key, reward, text.splitlines())
    out.print(f"{added:,} new codes for {reward}; {free:,} free in its pool")


def _print(r: Redemption) -> None:
    head = "already redeemed: " if r.duplicate else ""
    out.print(
        f"{head}{r.redemption_id}: {r.member} · {r.reward_name} · {r.price:,} points · {r.status}"
    )
    if r.code:
        out.print(f"code: {r.code}")
    if r.balance is not None:
        out.print(f"balance {r.balance:,}")
