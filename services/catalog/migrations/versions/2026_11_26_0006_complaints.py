"""Guardians' complaints about a programme their child attends or attended; operators of the region resolve them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "complaint",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("programme_id", sa.Uuid, sa.ForeignKey("programme.id"), nullable=False),
        sa.Column("provider_id", sa.Uuid, nullable=False),
        sa.Column("region_code", sa.Text, nullable=False),
        sa.Column("district_code", sa.Text, nullable=False),
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("filed_by", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("outcome", sa.Text),
        sa.Column("resolution", sa.Text),
        sa.Column("resolved_by", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('open', 'resolved')", name="status"),
        sa.CheckConstraint("(status = 'open') = (outcome IS NULL)", name="outcome"),
    )
    op.create_index("ix_complaint_programme", "complaint", ["programme_id", "status"])
    op.create_index("ix_complaint_region", "complaint", ["region_code", "district_code", "status", "created_at"])
    op.create_index("ix_complaint_filed_by", "complaint", ["filed_by", "created_at"])


def downgrade() -> None:
    op.drop_table("complaint")
