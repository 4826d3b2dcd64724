"""badge assertions

The opaque id of each award of a badge shown to the world (an Open Badges assertion, a public
badge page, a LinkedIn certification), so that its URL finds the award (issue 24).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accolade.store.tables

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "badge_assertions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("assertion", sa.String(length=40), nullable=False),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("badge", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column(
            "registered_at", accolade.store.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_badge_assertions_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_badge_assertions_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_assertions")),
        sa.UniqueConstraint("assertion", name=op.f("uq_badge_assertions_assertion")),
    )


def downgrade() -> None:
    op.drop_table("badge_assertions")
