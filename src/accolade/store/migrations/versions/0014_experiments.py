"""experiments: decisions, and the index that finds members' arms

experiment_decisions keeps every decision taken on an experiment (ship, stop or extend), with
who took it and why. A member's arm is a ledger entry of kind `experiment` (rule
`experiment:<key>`); ix_ledger_entries_experiment, partial on that kind, finds an experiment's
arms without reading the rest of the ledger.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accolade.store.tables

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index(
        "ix_ledger_entries_experiment",
        "ledger_entries",
        ["program_id", "rule"],
        unique=False,
        sqlite_where=sa.text("kind = 'experiment'"),
        postgresql_where=sa.text("kind = 'experiment'"),
    )
    op.create_table(
        "experiment_decisions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("program_id", Id, nullable=False),
        sa.Column("experiment", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", accolade.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_experiment_decisions_program_id_programs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_decisions")),
    )
    op.create_index(
        op.f("ix_experiment_decisions_program_id_experiment_id"),
        "experiment_decisions",
        ["program_id", "experiment", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_experiment_decisions_program_id_experiment_id"),
        table_name="experiment_decisions",
    )
    op.drop_table("experiment_decisions")
    op.drop_index("ix_ledger_entries_experiment", table_name="ledger_entries")
