"""leaderboard bucket groups

Each group of 64 score buckets gets a row counting the group, with a negative bucket number
(rankings_repo.group_row), so that a rank sums under a hundred rows instead of every bucket
above it. Existing boards get theirs from their buckets.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 11:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUP = 64  # rankings_repo._GROUP when this revision was written


def upgrade() -> None:
    # bucket >= 1 on both databases, so integer division is the floor group_row takes
    op.execute(
        "INSERT INTO leaderboard_buckets (window_id, partition_key, bucket, count) "
        f"SELECT window_id, partition_key, -1 - bucket / {GROUP}, SUM(count) "
        "FROM leaderboard_buckets WHERE bucket >= 0 "
        f"GROUP BY window_id, partition_key, -1 - bucket / {GROUP}"
    )


def downgrade() -> None:
    op.execute("DELETE FROM leaderboard_buckets WHERE bucket < 0")
