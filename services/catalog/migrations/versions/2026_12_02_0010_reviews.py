"""Guardians' reviews of a programme (one per enrolment, after a confirmed month) and the confirmed months they need.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "confirmed_month",
        sa.Column("enrolment_id", sa.Uuid, primary_key=True),
        sa.Column("period", sa.Text, primary_key=True),
        sa.Column("attended_sessions", sa.Integer, nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "review",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("enrolment_id", sa.Uuid, sa.ForeignKey("enrolment.id"), nullable=False, unique=True),
        sa.Column("programme_id", sa.Uuid, sa.ForeignKey("programme.id"), nullable=False),
        sa.Column("provider_id", sa.Uuid, nullable=False),
        sa.Column("region_code", sa.Text, nullable=False),
        sa.Column("district_code", sa.Text, nullable=False),
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("guardian_id", sa.Uuid, nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="visible"),
        sa.Column("hidden_reason", sa.Text),
        sa.Column("hidden_by", sa.Text),
        sa.Column("hidden_at", sa.DateTime(timezone=True)),
        sa.Column("answer", sa.Text),
        sa.Column("answered_by", sa.Text),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        sa.CheckConstraint("status IN ('visible', 'hidden')", name="status"),
        sa.CheckConstraint("(status = 'hidden') = (hidden_reason IS NOT NULL)", name="hidden_reason"),
    )
    op.create_index("ix_review_programme", "review", ["programme_id", "status"])


def downgrade() -> None:
    op.drop_table("review")
    op.drop_table("confirmed_month")
