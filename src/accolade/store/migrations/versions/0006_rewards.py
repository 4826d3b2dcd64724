"""rewards

Redemptions (their approval and fulfilment), the stock taken of each stocked item, and the
unique codes of code items. A member's balance may now go below zero: reversing an event whose
points were already spent claws them back, and the member earns the debt back before they can
redeem again (redeeming still needs a balance of at least the price).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 05:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accolade.store.tables

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = accolade.store.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    # SQLite rebuilds the table to drop a constraint (env.py turns its foreign keys off
    # around the migration, as SQLite's own procedure for it says).
    with op.batch_alter_table("members") as batch:
        batch.drop_constraint(op.f("ck_members_balance_not_negative"), type_="check")
    op.create_table(
        "redemptions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("program_id", Id, nullable=False),
        sa.Column("redemption_id", sa.String(length=200), nullable=False),
        sa.Column("member_id", Id, nullable=False),
        sa.Column("reward", sa.String(length=64), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("value_amount", sa.BigInteger(), nullable=True),
        sa.Column("value_currency", sa.String(length=3), nullable=True),
        sa.Column("fulfilment", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("code_id", Id, nullable=True),
        sa.Column("stock_taken", sa.Boolean(), nullable=False),
        sa.Column("program_version", sa.Integer(), nullable=False),
        sa.Column("requested_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_redemptions_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_redemptions_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        sa.UniqueConstraint(
            "program_id", "redemption_id", name=op.f("uq_redemptions_program_id_redemption_id")
        ),
    )
    op.create_index(
        op.f("ix_redemptions_member_id_reward_requested_at"),
        "redemptions",
        ["member_id", "reward", "requested_at"],
    )
    op.create_index(
        op.f("ix_redemptions_program_id_status_id"), "redemptions", ["program_id", "status", "id"]
    )
    op.create_table(
        "reward_stock",
        sa.Column("program_id", Id, nullable=False),
        sa.Column("reward", sa.String(length=64), nullable=False),
        sa.Column("taken", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_reward_stock_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "reward", name=op.f("pk_reward_stock")),
    )
    op.create_table(
        "reward_codes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("program_id", Id, nullable=False),
        sa.Column("reward", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("redemption", Id, nullable=True),
        sa.Column("added_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_reward_codes_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_codes")),
        sa.UniqueConstraint(
            "program_id", "reward", "code", name=op.f("uq_reward_codes_program_id_reward_code")
        ),
    )
    op.create_index(
        "ix_reward_codes_free",
        "reward_codes",
        ["program_id", "reward", "id"],
        sqlite_where=sa.text("redemption IS NULL"),
        postgresql_where=sa.text("redemption IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_reward_codes_free", table_name="reward_codes")
    op.drop_table("reward_codes")
    op.drop_table("reward_stock")
    op.drop_index(op.f("ix_redemptions_program_id_status_id"), table_name="redemptions")
    op.drop_index(op.f("ix_redemptions_member_id_reward_requested_at"), table_name="redemptions")
    op.drop_table("redemptions")
    with op.batch_alter_table("members") as batch:
        batch.create_check_constraint(
            op.f("ck_members_balance_not_negative"), sa.text("balance >= 0")
        )
