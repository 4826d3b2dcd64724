"""analytics: indexes for date-range reads of the log and the ledger

The reports (service/analytics.py) read who did what between two dates. Without these indexes
each report scans the whole log; the events index holds every column the reports read, so
they are answered from it alone.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 08:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_events_analytics",
        "events",
        ["program_id", "kind", "occurred_at", "type", "member_id", "reversed_by"],
        unique=False,
    )
    op.create_index(
        "ix_ledger_entries_analytics",
        "ledger_entries",
        ["program_id", "occurred_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_analytics", table_name="ledger_entries")
    op.drop_index("ix_events_analytics", table_name="events")
