"""`accolade referrals`: submit a referral, move it as the CRM says, list them, the pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from accolade.cli.options import JsonOption, LimitOption, ProgramOption, open_program
from accolade.cli.output import out, print_json

if TYPE_CHECKING:
    from accolade.service.referrals import Referral

referrals_app = typer.Typer(
    help="Referrals: prospects members refer, their stages, the pipeline they bring.",
    no_args_is_help=True,
)


@referrals_app.command("submit")
def referrals_submit(
    member: Annotated[str, typer.Argument(help="The referring member.")],
    prospect: Annotated[str, typer.Argument(help="The prospect company.")],
    domain: Annotated[str | None, typer.Option("--domain", help="Its domain: acme.com.")] = None,
    contact_name: Annotated[str | None, typer.Option("--contact-name")] = None,
    contact_email: Annotated[str | None, typer.Option("--contact-email")] = None,
    referral_id: Annotated[
        str | None, typer.Option("--id", help="Your id for it (the CRM lead's).")
    ] = None,
    program: ProgramOption = None,
) -> None:
    """A member refers a prospect; a prospect referred before (and still valid) is a duplicate."""
    from accolade.service import referrals as referrals_service

    store, key = open_program(program)
    _print(
        referrals_service.submit(
            store,
            key,
            member,
            prospect,
            domain=domain,
            contact_name=contact_name,
            contact_email=contact_email,
            referral_id=referral_id,
        )
    )


@referrals_app.command("move")
def referrals_move(
    referral_id: Annotated[str, typer.Argument(help="The referral's id.")],
    move: Annotated[
        str, typer.Argument(help="accept, qualify, opportunity, win, lose or disqualify.")
    ],
    amount: Annotated[
        str | None, typer.Option("--amount", help="The deal's value (12500.00); needed to win.")
    ] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="ISO 4217: USD.")] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why it was lost or disqualified.")
    ] = None,
    program: ProgramOption = None,
) -> None:
    """Move a referral to a stage, as the CRM says; lost and disqualified ones claw back."""
    from accolade.service import referrals as referrals_service

    store, key = open_program(program)
    _print(
        referrals_service.move(
            store, key, referral_id, move, amount=amount, currency=currency, reason=reason
        )
    )


@referrals_app.command("list")
def referrals_list(
    member: Annotated[str | None, typer.Option("--member", help="One member's referrals.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="submitted, won, ...")] = None,
    limit: LimitOption = 50,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """Referrals, newest first."""
    from accolade.service import referrals as referrals_service

    store, key = open_program(program)
    page = referrals_service.referrals(store, key, member=member, status=status, limit=limit)
    if as_json:
        print_json(page)
        return
    table = Table("referral", "member", "prospect", "status", "deal", "submitted")
    for r in page.items:
        table.add_row(
            r.referral_id,
            r.member,
            r.prospect,
            r.status + (f" of {r.duplicate_of}" if r.duplicate_of else ""),
            f"{r.amount:,f} {r.currency}" if r.amount is not None else "-",
            f"{r.submitted_at:%Y-%m-%d}",
        )
    out.print(table)


@referrals_app.command("pipeline")
def referrals_pipeline(
    by: Annotated[str, typer.Option("--by", help="member (default), team or company.")] = "member",
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """Referrals, qualified, open opportunities and won deals with their value, per referrer."""
    from accolade.service import referrals as referrals_service

    store, key = open_program(program)
    rows = referrals_service.pipeline(store, key, by)
    if as_json:
        print_json(rows)
        return
    table = Table(by, "referrals", "qualified", "open", "pipeline", "won", "won value")
    for p in rows:
        table.add_row(
            p.key or "-",
            str(p.referrals),
            str(p.qualified),
            str(p.open),
            _money(p.pipeline),
            str(p.won),
            _money(p.won_amount),
        )
    out.print(table)


def _money(sums: Mapping[str, Decimal]) -> str:
    return ", ".join(f"{v:,f} {c}" for c, v in sorted(sums.items())) or "-"


def _print(r: Referral) -> None:
    head = "already submitted: " if r.duplicate else ""
    line = f"{head}{r.referral_id}: {r.member} referred {r.prospect} · {r.status}"
    if r.duplicate_of:
        line += f" of {r.duplicate_of} (the first valid referral counts)"
    out.print(line)
    if r.amount is not None:
        out.print(f"deal {r.amount:,f} {r.currency}")
    if r.sent:
        out.print("sent " + ", ".join(r.sent))
    if r.reversed:
        out.print("reversed " + ", ".join(r.reversed))
