"""analytics: the rollup of activity, and the reversed events by time

Retention read each period's active members from the log's index: a distinct set of every
event of the month (~250k of them on the bench's 1M-event log), three per quarter, 455 ms
p50 on SQLite and 504 on PostgreSQL against 500 allowed at p95. activity_members keeps, per
event type and month or week, the members with an event of that type logged in it, as bitmaps
of 1,024 member ids (repositories/activity.py); ingest keeps it in the transaction that logs
the events. A reversal clears no bit: readers take the members with a reversed event in the
period from ix_events_reversed, which no row enters at ingest, and look again at those. This
revision fills the rollup from the log, cut in the zone of each program's active version.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 07:00:00.000000
"""

from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import yaml
from alembic import op

from accolade.store.repositories.activity import ActivityRepository

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REVERSED = "kind = 'event' AND reversed_by IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "activity_members",
        sa.Column("program_id", Id, nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("span", sa.String(length=5), nullable=False),
        sa.Column("first_day", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("block", sa.Integer(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        *(sa.Column(f"w{w}", sa.BigInteger(), nullable=False) for w in range(16)),
        sa.PrimaryKeyConstraint(
            "program_id",
            "zone",
            "span",
            "first_day",
            "type",
            "block",
            "slot",
            name=op.f("pk_activity_members"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_events_reversed",
        "events",
        ["program_id", "occurred_at"],
        unique=False,
        sqlite_where=sa.text(REVERSED),
        postgresql_where=sa.text(REVERSED),
    )
    conn = op.get_bind()
    active = conn.execute(
        sa.text(
            "SELECT p.id, v.source FROM programs p JOIN program_versions v "
            "ON v.program_id = p.id AND v.version = p.active_version"
        )
    )
    for program_id, source in active.all():
        zone = (yaml.safe_load(source) or {}).get("timezone") or "UTC"
        ActivityRepository(conn).rebuild(program_id, ZoneInfo(zone))


def downgrade() -> None:
    op.drop_index("ix_events_reversed", table_name="events")
    op.drop_table("activity_members")
