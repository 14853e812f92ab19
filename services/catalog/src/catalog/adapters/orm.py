"""Catalog tables."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from qosym_chassis.db import new_metadata

metadata = new_metadata()

region = Table(
    "region",
    metadata,
    Column("code", Text, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("timezone", Text),
    Column("districts", JSONB),  # the region's district codes; NULL for a projection older than migration 0007
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

consultation_point = Table(
    "consultation_point",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("region_code", Text, ForeignKey("region.code", ondelete="CASCADE"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("district", Text, nullable=False),
    Column("opening_days", JSONB, nullable=False),
    Index("ix_consultation_point_listing", "region_code", "district", "name"),
)

PROVIDER_STATUSES = "'pending', 'verified', 'rejected', 'suspended'"
ENROLMENT_STATUSES = "'requested', 'confirmed', 'rejected', 'ended'"

provider = Table(
    "provider",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("bin", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("region_code", Text, nullable=False),
    Column("district_code", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("contacts", JSONB, nullable=False),
    Column("bank", JSONB, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("status_reason", Text),
    Column("registered_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(f"status IN ({PROVIDER_STATUSES})", name="status"),
)

programme = Table(
    "programme",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("provider_id", Uuid, ForeignKey("provider.id"), nullable=False),
    Column("status", Text, nullable=False, server_default="published"),
    Column("direction", Text, nullable=False),
    Column("title", JSONB, nullable=False),
    Column("description", JSONB, nullable=False),
    Column("age_min", Integer, nullable=False),
    Column("age_max", Integer, nullable=False),
    Column("language", Text, nullable=False),
    Column("schedule", JSONB, nullable=False),
    Column("sessions_per_month", Integer, nullable=False),
    Column("price_per_month_tiyn", BigInteger, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("reserved", Integer, nullable=False, server_default="0"),
    Column("region_code", Text, nullable=False),
    Column("district_code", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("facility_id", Uuid),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("reserved >= 0 AND reserved <= capacity", name="seats"),
    CheckConstraint("capacity >= 1", name="capacity"),
    CheckConstraint("price_per_month_tiyn >= 0", name="price"),
    CheckConstraint("age_min <= age_max", name="age_band"),
    CheckConstraint("status IN ('published', 'suspended', 'closed')", name="status"),
    Index("ix_programme_search", "region_code", "district_code", "direction"),
)

enrolment = Table(
    "enrolment",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("programme_id", Uuid, ForeignKey("programme.id"), nullable=False),
    Column("provider_id", Uuid, nullable=False),
    Column("child_id", Uuid, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="requested"),
    Column("reason", Text),
    Column("ended_by", Text),
    Column("voucher_id", Uuid),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("first_attended_at", DateTime(timezone=True)),
    Column("reason_code", Text),  # what EnrolmentEnded carries; ``reason`` (a person's words) stays here
    Column("replaces_enrolment_id", Uuid, ForeignKey("enrolment.id")),  # a change of club (see the saga)
    CheckConstraint(f"status IN ({ENROLMENT_STATUSES})", name="status"),
    Index(
        "uq_enrolment_active_child_programme",
        "child_id",
        "programme_id",
        unique=True,
        postgresql_where=text("status IN ('requested', 'confirmed')"),
    ),
    Index("ix_enrolment_child", "child_id"),
    Index("ix_enrolment_programme", "programme_id", "status"),
)

child = Table(
    "child",
    metadata,
    Column("child_id", Uuid, primary_key=True),
    Column("birth_date", Date, nullable=False),
    Column("region_code", Text, nullable=False),
    Column("district_code", Text, nullable=False),
)

guardianship = Table(
    "guardianship",
    metadata,
    Column("child_id", Uuid, primary_key=True),
    Column("guardian_id", Uuid, primary_key=True),
    Column("active", Boolean, nullable=False),
)

staff = Table(
    "staff",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("provider_id", Uuid, ForeignKey("provider.id"), nullable=False),
    Column("full_name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("iin_index", LargeBinary, nullable=False),
    Column("iin_ciphertext", LargeBinary, nullable=False),
    Column("iin_last4", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("provider_id", "iin_index", name="uq_staff_provider_iin"),
)

facility = Table(
    "facility",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("provider_id", Uuid, ForeignKey("provider.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("capacity", Integer),
    CheckConstraint("capacity IS NULL OR capacity >= 1", name="capacity"),
)

attestation = Table(
    "attestation",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("provider_id", Uuid, ForeignKey("provider.id"), nullable=False),
    Column("subject_type", Text, nullable=False),
    Column("subject_id", Uuid, nullable=False),
    Column("kind", Text, nullable=False),
    Column("number", Text, nullable=False),
    Column("valid_until", Date, nullable=False),
    CheckConstraint("subject_type IN ('staff', 'facility')", name="subject_type"),
    Index("ix_attestation_expiry", "provider_id", "valid_until"),
)

programme_staff = Table(
    "programme_staff",
    metadata,
    Column("programme_id", Uuid, ForeignKey("programme.id"), primary_key=True),
    Column("staff_id", Uuid, ForeignKey("staff.id"), primary_key=True),
)

attestation_notice = Table(
    "attestation_notice",
    metadata,
    Column("attestation_id", Uuid, ForeignKey("attestation.id"), primary_key=True),
    Column("state", Text, primary_key=True),
    Column("noticed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("state IN ('expiring', 'expired')", name="state"),
)

# one row per enrolment and period the provider submitted (attendance's AttendanceSubmitted)
attendance_month = Table(
    "attendance_month",
    metadata,
    Column("enrolment_id", Uuid, primary_key=True),
    Column("period", Text, primary_key=True),
    Column("timesheet_id", Uuid, nullable=False),
    Column("programme_id", Uuid, nullable=False),
    Column("provider_id", Uuid, nullable=False),
    Column("planned_sessions", Integer, nullable=False),
    Column("attended_sessions", Integer, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("attended_sessions >= 0 AND planned_sessions >= 0", name="sessions"),
    CheckConstraint("period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'", name="period"),
    Index("ix_attendance_month_programme", "programme_id", "period"),
)

# a guardian's dispute of a timesheet (AttendanceDisputed), and the operator's outcome (DisputeResolved)
timesheet_dispute = Table(
    "timesheet_dispute",
    metadata,
    Column("dispute_id", Uuid, primary_key=True),
    Column("timesheet_id", Uuid, nullable=False),
    Column("enrolment_id", Uuid, nullable=False),
    Column("programme_id", Uuid, nullable=False),
    Column("period", Text, nullable=False),
    Column("disputed_sessions", Integer),
    Column("outcome", Text),
    Column("opened_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Index("ix_timesheet_dispute_programme", "programme_id"),
)

complaint = Table(
    "complaint",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("programme_id", Uuid, ForeignKey("programme.id"), nullable=False),
    Column("provider_id", Uuid, nullable=False),
    Column("region_code", Text, nullable=False),
    Column("district_code", Text, nullable=False),
    Column("child_id", Uuid, nullable=False),
    Column("filed_by", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("outcome", Text),
    Column("resolution", Text),
    Column("resolved_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('open', 'resolved')", name="status"),
    CheckConstraint("(status = 'open') = (outcome IS NULL)", name="outcome"),
    Index("ix_complaint_programme", "programme_id", "status"),
    Index("ix_complaint_region", "region_code", "district_code", "status", "created_at"),
    Index("ix_complaint_filed_by", "filed_by", "created_at"),
)

# a month attendance confirmed (AttendanceConfirmed, or a dispute resolved): what a review needs
confirmed_month = Table(
    "confirmed_month",
    metadata,
    Column("enrolment_id", Uuid, primary_key=True),
    Column("period", Text, primary_key=True),
    Column("attended_sessions", Integer, nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
)

review = Table(
    "review",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("enrolment_id", Uuid, ForeignKey("enrolment.id"), nullable=False, unique=True),
    Column("programme_id", Uuid, ForeignKey("programme.id"), nullable=False),
    Column("provider_id", Uuid, nullable=False),
    Column("region_code", Text, nullable=False),
    Column("district_code", Text, nullable=False),
    Column("child_id", Uuid, nullable=False),
    Column("guardian_id", Uuid, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="visible"),
    Column("hidden_reason", Text),
    Column("hidden_by", Text),
    Column("hidden_at", DateTime(timezone=True)),
    Column("answer", Text),
    Column("answered_by", Text),
    Column("answered_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
    CheckConstraint("status IN ('visible', 'hidden')", name="status"),
    CheckConstraint("(status = 'hidden') = (hidden_reason IS NOT NULL)", name="hidden_reason"),
    Index("ix_review_programme", "programme_id", "status"),
)
