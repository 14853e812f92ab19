"""Messaging tables and the region budget projection (integer tiyn).

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
        "region_budget",
        sa.Column("region_code", sa.Text(), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("budget_tiyn", sa.BigInteger(), nullable=False),
        sa.Column("voucher_monthly_value_tiyn", postgresql.JSONB(), nullable=False),
        sa.Column("voucher_months", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("budget_tiyn >= 0", name="ck_region_budget_budget_non_negative"),
        sa.CheckConstraint("voucher_months >= 1", name="ck_region_budget_months_positive"),
    )


def downgrade() -> None:
    op.drop_table("region_budget")
    drop_messaging_tables(op.get_bind())
