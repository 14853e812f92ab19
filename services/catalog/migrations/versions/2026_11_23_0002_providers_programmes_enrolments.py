"""Providers, programmes with seats, enrolments, the child and guardianship projections, staff and facilities.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROVIDER_STATUSES = "'pending', 'verified', 'rejected', 'suspended'"
ENROLMENT_STATUSES = "'requested', 'confirmed', 'rejected', 'ended'"


def upgrade() -> None:
    op.create_table(
        "provider",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("bin", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("region_code", sa.Text, nullable=False),
        sa.Column("district_code", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("contacts", postgresql.JSONB, nullable=False),
        sa.Column("bank", postgresql.JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("status_reason", sa.Text),
        sa.Column("registered_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(f"status IN ({PROVIDER_STATUSES})", name="status"),
    )

    op.create_table(
        "programme",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("provider_id", sa.Uuid, sa.ForeignKey("provider.id"), nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="published"),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("title", postgresql.JSONB, nullable=False),
        sa.Column("description", postgresql.JSONB, nullable=False),
        sa.Column("age_min", sa.Integer, nullable=False),
        sa.Column("age_max", sa.Integer, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("schedule", postgresql.JSONB, nullable=False),
        sa.Column("sessions_per_month", sa.Integer, nullable=False),
        sa.Column("price_per_month_tiyn", sa.BigInteger, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("reserved", sa.Integer, nullable=False, server_default="0"),
        sa.Column("region_code", sa.Text, nullable=False),
        sa.Column("district_code", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("facility_id", sa.Uuid),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("reserved >= 0 AND reserved <= capacity", name="seats"),
        sa.CheckConstraint("capacity >= 1", name="capacity"),
        sa.CheckConstraint("price_per_month_tiyn >= 0", name="price"),
        sa.CheckConstraint("age_min <= age_max", name="age_band"),
        sa.CheckConstraint("status IN ('published', 'closed')", name="status"),
        sa.Index("ix_programme_search", "region_code", "district_code", "direction"),
    )

    op.create_table(
        "enrolment",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("programme_id", sa.Uuid, sa.ForeignKey("programme.id"), nullable=False),
        sa.Column("provider_id", sa.Uuid, nullable=False),
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="requested"),
        sa.Column("reason", sa.Text),
        sa.Column("ended_by", sa.Text),
        sa.Column("voucher_id", sa.Uuid),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("first_attended_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(f"status IN ({ENROLMENT_STATUSES})", name="status"),
        sa.Index(
        "uq_enrolment_active_child_programme",
        "child_id",
        "programme_id",
            unique=True,
            postgresql_where=sa.text("status IN ('requested', 'confirmed')"),
        ),
        sa.Index("ix_enrolment_child", "child_id"),
        sa.Index("ix_enrolment_programme", "programme_id", "status"),
    )

    op.create_table(
        "child",
        sa.Column("child_id", sa.Uuid, primary_key=True),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("region_code", sa.Text, nullable=False),
        sa.Column("district_code", sa.Text, nullable=False),
    )

    op.create_table(
        "guardianship",
        sa.Column("child_id", sa.Uuid, primary_key=True),
        sa.Column("guardian_id", sa.Uuid, primary_key=True),
        sa.Column("active", sa.Boolean, nullable=False),
    )

    op.create_table(
        "staff",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("provider_id", sa.Uuid, sa.ForeignKey("provider.id"), nullable=False),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("iin_index", sa.LargeBinary, nullable=False),
        sa.Column("iin_ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("iin_last4", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("provider_id", "iin_index", name="uq_staff_provider_iin"),
    )

    op.create_table(
        "facility",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("provider_id", sa.Uuid, sa.ForeignKey("provider.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
    )

    op.create_table(
        "attestation",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("provider_id", sa.Uuid, sa.ForeignKey("provider.id"), nullable=False),
        sa.Column("subject_type", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.CheckConstraint("subject_type IN ('staff', 'facility')", name="subject_type"),
        sa.Index("ix_attestation_expiry", "provider_id", "valid_until"),
    )

    op.create_table(
        "programme_staff",
        sa.Column("programme_id", sa.Uuid, sa.ForeignKey("programme.id"), primary_key=True),
        sa.Column("staff_id", sa.Uuid, sa.ForeignKey("staff.id"), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("programme_staff")
    op.drop_table("attestation")
    op.drop_table("facility")
    op.drop_table("staff")
    op.drop_table("guardianship")
    op.drop_table("child")
    op.drop_table("enrolment")
    op.drop_table("programme")
    op.drop_table("provider")
