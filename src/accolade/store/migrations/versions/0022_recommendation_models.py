"""recommendation models

A trained next best action model per program and program version: coefficients and feature
names as JSON, sample sizes and offline metrics (issue 25).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 23:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accolade.store.tables

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recommendation_models",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("program_version", sa.Integer(), nullable=False),
        sa.Column("trained_at", accolade.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("samples", sa.BigInteger(), nullable=False),
        sa.Column("positives", sa.BigInteger(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_recommendation_models_program_id_programs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_models")),
    )
    op.create_index(
        op.f("ix_recommendation_models_program_id_program_version"),
        "recommendation_models",
        ["program_id", "program_version"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_recommendation_models_program_id_program_version"),
        table_name="recommendation_models",
    )
    op.drop_table("recommendation_models")
