"""references

Reference requests and the advocates asked for them, and the facet index of member attributes
they match on.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 05:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accolade.store.tables

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = accolade.store.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "member_facets",
        sa.Column("program_id", Id, nullable=False),
        sa.Column("member_id", Id, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("program_id", "member_id", "name", name=op.f("pk_member_facets")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_member_facets_lookup", "member_facets", ["program_id", "name", "value", "member_id"]
    )
    op.create_table(
        "reference_requests",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("program_id", Id, nullable=False),
        sa.Column("request_id", sa.String(length=150), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_reference_requests_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_requests")),
        sa.UniqueConstraint(
            "program_id", "request_id", name=op.f("uq_reference_requests_program_id_request_id")
        ),
    )
    op.create_table(
        "reference_asks",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("program_id", Id, nullable=False),
        sa.Column("request_id", Id, nullable=False),
        sa.Column("member_id", Id, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("asked_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_reference_asks_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["reference_requests.id"],
            name=op.f("fk_reference_asks_request_id_reference_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_asks")),
        sa.UniqueConstraint(
            "request_id", "member_id", name=op.f("uq_reference_asks_request_id_member_id")
        ),
    )
    op.create_index(
        op.f("ix_reference_asks_program_id_asked_at"), "reference_asks", ["program_id", "asked_at"]
    )
    op.create_index(
        op.f("ix_reference_asks_member_id_asked_at"), "reference_asks", ["member_id", "asked_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reference_asks_member_id_asked_at"), table_name="reference_asks")
    op.drop_index(op.f("ix_reference_asks_program_id_asked_at"), table_name="reference_asks")
    op.drop_table("reference_asks")
    op.drop_table("reference_requests")
    op.drop_index("ix_member_facets_lookup", table_name="member_facets")
    op.drop_table("member_facets")
