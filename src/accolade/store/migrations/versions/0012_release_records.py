"""release records and program simulations

Each activation (publish or rollback) keeps its release record: the notes and who approved it,
both optional, so the activations stored before this revision read as records without them.
program_simulations keeps one row per simulation of a draft, by its program hash, so that
publishing can require a simulated version (ACCOLADE_PUBLISH_REQUIRES_SIMULATION).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accolade.store.tables

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("program_activations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("approved_by", sa.String(length=200), nullable=True))
    op.create_table(
        "program_simulations",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("program_id", Id, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("simulated_at", accolade.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_simulations_program_id_programs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_simulations")),
    )
    op.create_index(
        op.f("ix_program_simulations_program_id_hash"),
        "program_simulations",
        ["program_id", "hash"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_program_simulations_program_id_hash"), table_name="program_simulations")
    op.drop_table("program_simulations")
    with op.batch_alter_table("program_activations", schema=None) as batch_op:
        batch_op.drop_column("approved_by")
        batch_op.drop_column("notes")
