"""experiments: an experiment's arms read from the index alone

An experiment report tests each outcome's members against the arms' member sets, built from
the ledger's `experiment` entries. ix_ledger_entries_experiment held (program_id, rule): every
entry's arm (its period) and member were read from the table, once per set built (100k
members: ~50 ms each, ten sets a report). With the arm and the member in the index, a set is
a range of it. Partial on `experiment` entries as before: ingest writes one per member, once.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPERIMENT = "kind = 'experiment'"


def upgrade() -> None:
    _replace(["program_id", "rule", "period", "member_id"])


def downgrade() -> None:
    _replace(["program_id", "rule"])


def _replace(columns: list[str]) -> None:
    op.drop_index("ix_ledger_entries_experiment", table_name="ledger_entries")
    op.create_index(
        "ix_ledger_entries_experiment",
        "ledger_entries",
        columns,
        unique=False,
        sqlite_where=sa.text(EXPERIMENT),
        postgresql_where=sa.text(EXPERIMENT),
    )
