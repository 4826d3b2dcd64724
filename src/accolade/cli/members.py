"""`accolade member show` and `accolade explain`: what a member has, and where every point came
from; the members table the demo prints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from accolade.cli.options import JsonOption, ProgramOption, open_program
from accolade.cli.output import count, out, print_json
from accolade.errors import InvalidInput

if TYPE_CHECKING:
    from accolade.engine.streaks import StreakStatus
    from accolade.service.members import MemberView
    from accolade.store.unit_of_work import Store

member_app = typer.Typer(help="Look at members, and change their attributes.", no_args_is_help=True)


@member_app.command("show")
def member_show(member: str, program: ProgramOption = None, as_json: JsonOption = False) -> None:
    """Balance, lifetime points, tier and benefits, badges and recent entries of a member."""
    from accolade.service import members as member_service

    store, key = open_program(program)
    view = member_service.show(store, key, member)
    if as_json:
        print_json(view)
        return
    _print_standing(view)
    _print_progress(view)
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


@member_app.command("update")
def member_update(
    member: str,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="NAME=VALUE: set an attribute (true/false and numbers are typed)."
        ),
    ] = None,
    clear: Annotated[
        list[str] | None, typer.Option("--clear", help="NAME: clear an attribute (null).")
    ] = None,
    team: Annotated[str | None, typer.Option("--team", help="The member's team.")] = None,
    company: Annotated[str | None, typer.Option("--company", help="The member's company.")] = None,
    change_id: Annotated[
        str | None,
        typer.Option("--id", help="Idempotency key: the same id again changes nothing."),
    ] = None,
    program: ProgramOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set or clear a member's attributes, team or company (PATCH /v1/members/{id}): a
    member.updated event in the log, so replay rebuilds it; a new member is created."""
    from accolade.service import members as member_service
    from accolade.service.sources import typed_value

    attributes: dict[str, str | int | float | bool | None] = {}
    for pair in set_ or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(f"'{pair}' is not NAME=VALUE", field="--set")
        attributes[name] = typed_value(value)
    attributes.update({name: None for name in clear or []})
    if not attributes and team is None and company is None:
        raise InvalidInput(
            "say what to change: --set, --clear, --team or --company", field="member"
        )
    store, key = open_program(program)
    view = member_service.update(
        store,
        key,
        member,
        attributes=attributes,
        team=team,
        company=company,
        idempotency_key=change_id,
    )
    if as_json:
        print_json(view)
        return
    _print_standing(view)
    if view.attributes:
        out.print("attributes: " + ", ".join(f"{k}={v}" for k, v in view.attributes.items()))


def _print_standing(view: MemberView) -> None:
    """Points, tier, benefits, badges, stage and entitlements."""
    out.print(f"[bold]{view.member}[/bold]" + (f"  {view.company}" if view.company else ""))
    out.print(
        f"balance {view.balance:,} · lifetime {view.lifetime:,} · tier [bold]{view.tier_name or '-'}[/bold]"
    )
    if view.pending:
        out.print(f"{view.pending:,} of the balance pending (not spendable yet)")
    if view.next_tier:
        out.print(f"{view.points_to_next_tier:,} points to {view.next_tier_name}")
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
    for arm in view.experiments:
        live = "running" if arm.running else "not running"
        out.print(f"experiment {arm.name}: {arm.arm} group ({live})")


def _print_progress(view: MemberView) -> None:
    """A line per quest, challenge and streak."""
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


def _streak_line(s: StreakStatus) -> str:
    """``streak Daily learner: 5 days (longest 12) · done today · 1 freeze · ...``; freezes and
    grace only when the member has some."""
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


def explain(member: str, program: ProgramOption = None, as_json: JsonOption = False) -> None:
    """Every point of a member: event -> rule -> entry -> program version."""
    from accolade.service import members as member_service

    store, key = open_program(program)
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


def print_members_table(store: Store, key: str, top: int) -> None:
    """The ``top`` members by lifetime points, of how many."""
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
