"""challenge closes

One row per closed challenge with its winners, so a second close pays nobody.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 23:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accolade.store.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "challenge_closes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("challenge", sa.String(length=64), nullable=False),
        sa.Column("program_version", sa.Integer(), nullable=False),
        sa.Column("closed_at", accolade.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("winners", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_challenge_closes_program_id_programs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_closes")),
        sa.UniqueConstraint(
            "program_id", "challenge", name=op.f("uq_challenge_closes_program_id_challenge")
        ),
    )


def downgrade() -> None:
    op.drop_table("challenge_closes")
