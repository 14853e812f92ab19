"""Attendance tables."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from qosym_chassis.db import new_metadata

metadata = new_metadata()

region = Table(
    "region",
    metadata,
    Column("code", Text, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("districts", JSONB),  # the region's district codes; NULL for a projection older than migration 0003
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# every revision of a region's rules is kept: a timesheet is judged by the revision it was submitted under
region_rules = Table(
    "region_rules",
    metadata,
    Column("region_code", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("rules", JSONB, nullable=False),
    Column("set_by", Text, nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("region_code", "revision"),
    CheckConstraint("revision >= 1", name="revision_positive"),
)

# --- projections of catalog and registry ----------------------------------------------------------

programme = Table(
    "programme",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("region_code", Text, nullable=False),
    Column("district_code", Text, nullable=False),
    Column("sessions_per_month", Integer, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("schedule", JSONB, nullable=False),
    Column("coach_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'")),
    Column("facility_id", UUID(as_uuid=True)),
    Column("facility_capacity", Integer),
    Column("status", Text, nullable=False),
    Column("source_at", DateTime(timezone=True), nullable=False),
    Index("ix_programme_provider", "provider_id"),
    Index("ix_programme_facility", "facility_id"),
)

enrolment = Table(
    "enrolment",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("child_id", UUID(as_uuid=True), nullable=False),
    Column("programme_id", UUID(as_uuid=True), nullable=False),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("voucher_id", UUID(as_uuid=True), nullable=False),
    Column("region_code", Text, nullable=False),
    Column("district_code", Text, nullable=False),
    Column("sessions_per_month", Integer, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Index("ix_enrolment_programme", "programme_id"),
    Index("ix_enrolment_child", "child_id"),
)

# an EnrolmentEnded seen before its EnrolmentConfirmed (replays): applied when the confirmation arrives
early_enrolment_end = Table(
    "early_enrolment_end",
    metadata,
    Column("enrolment_id", UUID(as_uuid=True), primary_key=True),
    Column("ended_at", DateTime(timezone=True), nullable=False),
)

guardianship = Table(
    "guardianship",
    metadata,
    Column("child_id", UUID(as_uuid=True), nullable=False),
    Column("guardian_id", UUID(as_uuid=True), nullable=False),
    Column("active", Boolean, nullable=False),
    PrimaryKeyConstraint("child_id", "guardian_id"),
    Index("ix_guardianship_guardian", "guardian_id"),
)

# --- timesheets ------------------------------------------------------------------------------------

timesheet = Table(
    "timesheet",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("enrolment_id", UUID(as_uuid=True), nullable=False),
    Column("period", Text, nullable=False),
    Column("child_id", UUID(as_uuid=True), nullable=False),
    Column("programme_id", UUID(as_uuid=True), nullable=False),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("region_code", Text, nullable=False),
    Column("district_code", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="draft"),
    Column("rules_revision", Integer),
    Column("scheduled_sessions", Integer),  # the month's schedule, closure days excluded
    Column("planned_sessions", Integer),  # what payments divides by (the region's rule may shrink it)
    Column("span_sessions", Integer),
    Column("attended_sessions", Integer),
    Column("absent_sessions", Integer),
    Column("cancelled_sessions", Integer),
    Column("payable_on_confirm", Integer),
    Column("on_no_answer", Text),
    Column("payable_sessions", Integer),
    Column("basis", Text),
    Column("confirm_by", DateTime(timezone=True)),
    Column("late", Boolean, nullable=False, server_default=text("false")),
    Column("submitted_at", DateTime(timezone=True)),
    Column("submitted_by", Text),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("enrolment_id", "period", name="uq_timesheet_enrolment_period"),
    CheckConstraint(
        "status IN ('draft', 'submitted', 'confirmed', 'disputed', 'resolved', 'lapsed')", name="status_known"
    ),
    CheckConstraint(
        "basis IS NULL OR basis IN ('guardian_confirmed', 'deemed_confirmed', 'dispute_resolved')", name="basis_known"
    ),
    CheckConstraint(
        "payable_sessions IS NULL OR payable_sessions BETWEEN 0 AND planned_sessions", name="payable_le_plan"
    ),
    CheckConstraint(
        "(status IN ('confirmed', 'resolved')) = (payable_sessions IS NOT NULL AND basis IS NOT NULL)",
        name="payable_iff_decided",
    ),
    Index("ix_timesheet_programme_period", "programme_id", "period"),
    Index("ix_timesheet_provider_period", "provider_id", "period"),
    Index("ix_timesheet_child_period", "child_id", "period"),
    Index("ix_timesheet_region_period_status", "region_code", "period", "status"),
    Index("ix_timesheet_awaiting", "confirm_by", postgresql_where=text("status = 'submitted'")),
)

session_mark = Table(
    "session_mark",
    metadata,
    Column("timesheet_id", UUID(as_uuid=True), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("session_date", Date, nullable=False),
    Column("status", Text, nullable=False),
    Column("scheduled", Boolean, nullable=False),
    Column("closure_day", Boolean, nullable=False, server_default=text("false")),
    Column("reason", Text),
    Column("marked_by", Text, nullable=False),
    Column("marked_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("timesheet_id", "starts_at"),
    CheckConstraint("status IN ('attended', 'absent', 'cancelled_by_provider')", name="status_known"),
    CheckConstraint("(scheduled AND NOT closure_day) OR reason IS NOT NULL", name="reason_off_schedule"),
    CheckConstraint("ends_at > starts_at", name="positive_length"),
)

late_permit = Table(
    "late_permit",
    metadata,
    Column("programme_id", UUID(as_uuid=True), nullable=False),
    Column("period", Text, nullable=False),
    Column("granted_by", Text, nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    PrimaryKeyConstraint("programme_id", "period"),
)

dispute = Table(
    "dispute",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("timesheet_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("region_code", Text, nullable=False),
    Column("district_code", Text, nullable=False),
    Column("opened_by", Text, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("comment", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("outcome", Text),
    Column("resolved_by", Text),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolution_comment", Text),
    CheckConstraint("status IN ('open', 'resolved')", name="status_known"),
    Index("ix_dispute_open", "region_code", postgresql_where=text("status = 'open'")),
)

disputed_session = Table(
    "disputed_session",
    metadata,
    Column("dispute_id", UUID(as_uuid=True), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("marked_status", Text, nullable=False),
    Column("claim", Text, nullable=False),
    Column("comment", Text),
    Column("ruling", Text),
    PrimaryKeyConstraint("dispute_id", "starts_at"),
    CheckConstraint("claim IN ('attended', 'absent', 'not_held')", name="claim_known"),
)

# every decision on a timesheet, with who made it (append-only)
decision = Table(
    "decision",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("timesheet_id", UUID(as_uuid=True), nullable=False),
    Column("action", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("detail", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Index("ix_decision_timesheet", "timesheet_id"),
)

# --- inspections and risk flags ---------------------------------------------------------------------

inspection = Table(
    "inspection",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("region_code", Text, nullable=False),
    Column("district_code", Text),
    Column("provider_id", UUID(as_uuid=True)),
    Column("announced_at", DateTime(timezone=True), nullable=False),
    Column("announced_by", Text, nullable=False),
    Column("note", Text, nullable=False),
    Index("ix_inspection_region", "region_code", "announced_at"),
)

risk_flag = Table(
    "risk_flag",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("rule", Text, nullable=False),
    Column("subject_type", Text, nullable=False),
    Column("subject_id", UUID(as_uuid=True), nullable=False),
    Column("provider_id", UUID(as_uuid=True)),
    Column("region_code", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("evidence", JSONB, nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("reviewed_by", Text),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("review_note", Text),
    UniqueConstraint("rule", "subject_id", "period", name="uq_risk_flag_rule_subject_period"),
    CheckConstraint("status IN ('open', 'dismissed', 'confirmed')", name="status_known"),
    Index("ix_risk_flag_region", "region_code", "period"),
)
