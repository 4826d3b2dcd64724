"""crm connectors

A webhook subscription's kind ("webhook", or a connector such as "hubspot" that a program's
`integrations:` section keeps subscribed), and what each connector last sent per contact, so
it sends only what changed (issue 24).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accolade.store.tables

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="webhook", nullable=False)
        )
    op.create_table(
        "crm_contacts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "subscription_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("contact", sa.String(length=320), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.Column("synced_at", accolade.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_crm_contacts_subscription_id_webhook_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contacts")),
        sa.UniqueConstraint(
            "subscription_id", "contact", name=op.f("uq_crm_contacts_subscription_id_contact")
        ),
    )


def downgrade() -> None:
    op.drop_table("crm_contacts")
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.drop_column("kind")
