"""derived tables without foreign keys

The ledger and the badge table are derived: only the engine writes them, in the transaction
that writes the log row they belong to, and replay rebuilds them from the log. Their foreign
keys cost a trigger per row on PostgreSQL: without them, ingest runs ~10% faster there
(200k events: 16.9k -> 18.5k events/s, measured). The log keeps its key to members.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = (
    ("ledger_entries", "member_id", "members"),
    ("ledger_entries", "event_id", "events"),
    ("member_badges", "member_id", "members"),
    ("member_badges", "event_id", "events"),
)


def upgrade() -> None:
    for table in ("ledger_entries", "member_badges"):
        with op.batch_alter_table(table) as batch:
            for name, column, referred in _KEYS:
                if name == table:
                    batch.drop_constraint(f"fk_{table}_{column}_{referred}", type_="foreignkey")


def downgrade() -> None:
    for table in ("ledger_entries", "member_badges"):
        with op.batch_alter_table(table) as batch:
            for name, column, referred in _KEYS:
                if name == table:
                    batch.create_foreign_key(
                        f"fk_{table}_{column}_{referred}", referred, [column], ["id"]
                    )
