"""Messaging tables (outbox, inbox, dead letters, idempotency keys), children and the region projection.

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
        "child",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("iin_index", sa.LargeBinary(), nullable=False),
        sa.Column("iin_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("iin_last4", sa.Text(), nullable=False),
        sa.Column("guardian_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.Text(), nullable=False),
        sa.Column("region_code", sa.Text(), nullable=False),
        sa.Column("district_code", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("iin_index", name="uq_child_iin_index"),
    )
    op.create_index("ix_child_guardian_id", "child", ["guardian_id"])
    op.create_table(
        "region",
        sa.Column("code", sa.Text(), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("districts", postgresql.JSONB(), nullable=False),
        sa.Column("child_age_min", sa.Integer(), nullable=False),
        sa.Column("child_age_max", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("region")
    op.drop_table("child")
    drop_messaging_tables(op.get_bind())
