"""member token secret not stored

Member tokens are signed with a secret derived from the server secret (ACCOLADE_SECRET_KEY) and
the key id, no longer with a secret kept in clear beside each key: a copy of the database can
no longer forge them. Tokens minted before this revision stop working (they live a day at most).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 10:00:00.000000
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("token_secret")


def downgrade() -> None:
    # A new random secret per key, never a shared or empty one: tokens minted since the upgrade
    # stop working, as those minted before it did.
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_secret", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    for (key_pk,) in conn.execute(sa.text("SELECT id FROM api_keys")).fetchall():
        conn.execute(
            sa.text("UPDATE api_keys SET token_secret = :secret WHERE id = :id"),
            {"secret": secrets.token_hex(32), "id": key_pk},
        )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.alter_column("token_secret", existing_type=sa.String(length=64), nullable=False)
