"""Messaging tables, the region revisions and the consultation-point projection.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from qosym_chassis.migrations import create_messaging_tables, drop_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables(op.get_bind())
    op.create_table(
        "region",
        sa.Column("code", sa.Text(), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "consultation_point",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "region_code",
            sa.Text(),
            sa.ForeignKey("region.code", name="fk_consultation_point_region_code_region", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("opening_days", postgresql.JSONB(), nullable=False),
    )
    op.create_index("ix_consultation_point_listing", "consultation_point", ["region_code", "district", "name"])


def downgrade() -> None:
    op.drop_table("consultation_point")
    op.drop_table("region")
    drop_messaging_tables(op.get_bind())
