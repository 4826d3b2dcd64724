"""leaderboards

Board windows (with closes and rolling days), scores, rank buckets and rolling day scores.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 02:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accolade.store.tables

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = accolade.store.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "leaderboard_windows",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("program_id", Id, nullable=False),
        sa.Column("board", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("starts_at", Time, nullable=True),
        sa.Column("ends_at", Time, nullable=True),
        sa.Column("last_day", sa.Integer(), nullable=True),
        sa.Column("closed_at", Time, nullable=True),
        sa.Column("standings", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_leaderboard_windows_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboard_windows")),
        sa.UniqueConstraint(
            "program_id",
            "board",
            "label",
            name=op.f("uq_leaderboard_windows_program_id_board_label"),
        ),
    )
    op.create_table(
        "leaderboard_scores",
        sa.Column("window_id", Id, nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("partition_key", sa.Text(), nullable=True),
        sa.Column("visible", sa.SmallInteger(), nullable=False),
        sa.Column("score", sa.BigInteger(), nullable=False),
        sa.Column("reached_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("window_id", "subject", name=op.f("pk_leaderboard_scores")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_leaderboard_scores_rank",
        "leaderboard_scores",
        ["window_id", "partition_key", sa.literal_column("score DESC"), "reached_at", "subject"],
    )
    op.create_table(
        "leaderboard_buckets",
        sa.Column("window_id", Id, nullable=False),
        sa.Column("partition_key", sa.Text(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "window_id", "partition_key", "bucket", name=op.f("pk_leaderboard_buckets")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "leaderboard_days",
        sa.Column("window_id", Id, nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("score", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("window_id", "day", "subject", name=op.f("pk_leaderboard_days")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("leaderboard_days")
    op.drop_table("leaderboard_buckets")
    op.drop_index("ix_leaderboard_scores_rank", table_name="leaderboard_scores")
    op.drop_table("leaderboard_scores")
    op.drop_table("leaderboard_windows")
