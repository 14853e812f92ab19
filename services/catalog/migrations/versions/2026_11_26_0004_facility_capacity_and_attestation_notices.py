"""Facilities hold a number of children; each region's time zone; one notice per attestation and state.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # nullable: facilities recorded before this revision have no known capacity (the API now requires it)
    op.add_column("facility", sa.Column("capacity", sa.Integer))
    op.create_check_constraint("capacity", "facility", "capacity IS NULL OR capacity >= 1")
    op.add_column("region", sa.Column("timezone", sa.Text))
    op.create_table(
        "attestation_notice",
        sa.Column("attestation_id", sa.Uuid, sa.ForeignKey("attestation.id"), primary_key=True),
        sa.Column("state", sa.Text, primary_key=True),
        sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("state IN ('expiring', 'expired')", name="state"),
    )


def downgrade() -> None:
    op.drop_table("attestation_notice")
    op.drop_column("region", "timezone")
    op.drop_column("facility", "capacity")
