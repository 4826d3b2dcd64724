"""referrals

A member's referrals of prospects, their stage and deal value.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 05:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accolade.store.tables

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = accolade.store.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("program_id", Id, nullable=False),
        sa.Column("referral_id", sa.String(length=200), nullable=False),
        sa.Column("member_id", Id, nullable=False),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("prospect", sa.String(length=200), nullable=False),
        sa.Column("prospect_key", sa.String(length=200), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("duplicate_of", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("submitted_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_referrals_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_referrals_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint(
            "program_id", "referral_id", name=op.f("uq_referrals_program_id_referral_id")
        ),
    )
    op.create_index(
        op.f("ix_referrals_program_id_prospect_key_id"),
        "referrals",
        ["program_id", "prospect_key", "id"],
    )
    op.create_index(op.f("ix_referrals_member_id_id"), "referrals", ["member_id", "id"])
    valid = sa.text("status IN ('submitted', 'accepted', 'qualified', 'opportunity', 'won')")
    op.create_index(
        "uq_referrals_valid_prospect",
        "referrals",
        ["program_id", "prospect_key"],
        unique=True,
        sqlite_where=valid,
        postgresql_where=valid,
    )


def downgrade() -> None:
    op.drop_index("uq_referrals_valid_prospect", table_name="referrals")
    op.drop_index(op.f("ix_referrals_member_id_id"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_program_id_prospect_key_id"), table_name="referrals")
    op.drop_table("referrals")
