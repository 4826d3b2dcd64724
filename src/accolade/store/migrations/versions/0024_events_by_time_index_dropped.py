"""analytics: ix_events_analytics (the events in force by time) dropped

Its one use left was "an event of any type" (a member active in a range): that is now read
from ix_events_analytics_types, a range of it per type of the program's events (found by a
walk of the same index). Each index on the log is upkeep at every ingest: this one cost ~5k
instructions an event on SQLite, 1.4% of an ingest (callgrind, 20k events), against the
issue's bound of 10% for all the analytics upkeep.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_FORCE = "kind = 'event' AND reversed_by IS NULL"


def upgrade() -> None:
    op.drop_index("ix_events_analytics", table_name="events")


def downgrade() -> None:
    op.create_index(
        "ix_events_analytics",
        "events",
        ["program_id", "occurred_at", "type", "member_id"],
        unique=False,
        sqlite_where=sa.text(IN_FORCE),
        postgresql_where=sa.text(IN_FORCE),
    )
