"""The `accolade` command: each command is a thin wrapper over a service function, one module
per command group; this entry point lists them all and turns Accolade errors into red lines.

Start-up: see accolade.cli.options (what a module may import at its top)."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from accolade.cli import (
    analytics,
    assessments,
    badges,
    challenges,
    crm,
    demo,
    experiments,
    ingest,
    keys,
    leaderboards,
    members,
    points,
    program,
    quests,
    recommend,
    references,
    referrals,
    rewards,
    serve,
    users,
)
from accolade.cli.output import err
from accolade.errors import AccoladeError, InvalidProgram


class AccoladeCommand(TyperGroup):
    """The root command: an Accolade error from any command becomes one red `error:` line
    naming the field (one per problem of an invalid program), and exit code 2, never a
    traceback."""

    # ctx: Typer's own click Context (typer._click, private); typer.Context, its subclass,
    # would narrow the override.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except InvalidProgram as exc:
            for error in exc.errors:
                err.print(f"[red]error:[/red] {error}")
            raise typer.Exit(2) from None
        except AccoladeError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=AccoladeCommand,
    help="Accolade: points, badges and tiers for B2B programs.",
    no_args_is_help=True,
)

# Top-level commands, in the order `accolade --help` lists them, then the groups.
app.command("init")(program.init)
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("openapi")(serve.openapi)
app.command("worker")(serve.worker)
app.command("ingest")(ingest.ingest)
app.command("explain")(members.explain)
app.command("reverse")(ingest.reverse)
app.command("replay")(ingest.replay)
app.command("generate-events")(ingest.generate)

app.add_typer(program.program_app, name="program")
app.add_typer(members.member_app, name="member")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(users.users_app, name="users")
app.add_typer(quests.quests_app, name="quests")
app.add_typer(challenges.challenges_app, name="challenges")
app.add_typer(leaderboards.leaderboards_app, name="leaderboards")
app.add_typer(rewards.rewards_app, name="rewards")
app.add_typer(points.points_app, name="points")
app.add_typer(referrals.referrals_app, name="referrals")
app.add_typer(assessments.assessments_app, name="assessments")
app.add_typer(references.references_app, name="references")
app.add_typer(analytics.analytics_app, name="analytics")
app.add_typer(experiments.experiments_app, name="experiments")
app.add_typer(crm.crm_app, name="crm")
app.add_typer(badges.badges_app, name="badges")
app.add_typer(recommend.recommend_app, name="recommend")
