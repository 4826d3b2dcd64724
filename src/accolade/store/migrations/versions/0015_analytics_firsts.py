"""analytics: each member's first event of each type, and the log's index made partial

The reports ask, for every member, when they were first invited, activated or qualified: read
from the log, each such question scanned all of it (seconds on a million events).
member_firsts keeps the answer: per member and event type, the time of their first event in
force (of any type: the earliest of them); ingest and reversal keep it in their transaction, replay rebuilds
it, and this revision fills it from the log.

ix_events_analytics becomes partial on the events in force (kind 'event', not reversed) and
no longer starts with (program_id, kind): in that form it tied with the unique key
(program_id, kind, event_id) for ingest's duplicate check, and PostgreSQL without fresh
statistics chose it and filtered the whole program for every id (ingest went quadratic).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-09 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accolade.store.tables

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IN_FORCE = "kind = 'event' AND reversed_by IS NULL"


def upgrade() -> None:
    op.drop_index("ix_events_analytics", table_name="events")
    op.create_index(
        "ix_events_analytics",
        "events",
        ["program_id", "occurred_at", "type", "member_id"],
        unique=False,
        sqlite_where=sa.text(IN_FORCE),
        postgresql_where=sa.text(IN_FORCE),
    )
    op.create_table(
        "member_firsts",
        sa.Column("program_id", Id, nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("member_id", Id, nullable=False),
        sa.Column("occurred_at", accolade.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("program_id", "type", "member_id", name=op.f("pk_member_firsts")),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO member_firsts (program_id, type, member_id, occurred_at) "
        "SELECT program_id, type, member_id, min(occurred_at) FROM events "
        f"WHERE {IN_FORCE} GROUP BY program_id, type, member_id"
    )


def downgrade() -> None:
    op.drop_table("member_firsts")
    op.drop_index("ix_events_analytics", table_name="events")
    op.create_index(
        "ix_events_analytics",
        "events",
        ["program_id", "kind", "occurred_at", "type", "member_id", "reversed_by"],
        unique=False,
    )
