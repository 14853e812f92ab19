"""What catalog keeps of attendance: each enrolment's submitted months and the disputes per timesheet.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attendance_month",
        sa.Column("enrolment_id", sa.Uuid, primary_key=True),
        sa.Column("period", sa.Text, primary_key=True),
        sa.Column("timesheet_id", sa.Uuid, nullable=False),
        sa.Column("programme_id", sa.Uuid, nullable=False),
        sa.Column("provider_id", sa.Uuid, nullable=False),
        sa.Column("planned_sessions", sa.Integer, nullable=False),
        sa.Column("attended_sessions", sa.Integer, nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("attended_sessions >= 0 AND planned_sessions >= 0", name="sessions"),
        sa.CheckConstraint("period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'", name="period"),
    )
    op.create_index("ix_attendance_month_programme", "attendance_month", ["programme_id", "period"])
    op.create_table(
        "timesheet_dispute",
        sa.Column("dispute_id", sa.Uuid, primary_key=True),
        sa.Column("timesheet_id", sa.Uuid, nullable=False),
        sa.Column("enrolment_id", sa.Uuid, nullable=False),
        sa.Column("programme_id", sa.Uuid, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("disputed_sessions", sa.Integer),
        sa.Column("outcome", sa.Text),
        sa.Column("opened_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_timesheet_dispute_programme", "timesheet_dispute", ["programme_id"])


def downgrade() -> None:
    op.drop_table("timesheet_dispute")
    op.drop_table("attendance_month")
