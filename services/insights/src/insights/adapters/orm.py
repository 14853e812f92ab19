"""Insights tables: facts keyed by opaque ids, with non-personal dimensions only (docs/architecture.md, "Layers").

No IIN, name, birth date, guardian or child id is stored: a child is a salted hash (``child_key``) used only to
count distinct children, with the birth year (for the age band), the district and the priority categories.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Index, Integer, Table, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from qosym_chassis.db import new_metadata

metadata = new_metadata()

region = Table(
    "region",
    metadata,
    Column("code", Text, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("name", JSONB, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("districts", JSONB, nullable=False),  # [{"code", "name": {en, kk, ru}}]
    Column("directions", JSONB, nullable=False),
    Column("budget_tiyn", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True)),
)

child = Table(
    "child",
    metadata,
    Column("child_key", Text, primary_key=True),  # salted sha256 of the child id, never published
    Column("region_code", Text),
    Column("district_code", Text),
    Column("birth_year", Integer),
    Column("details_at", DateTime(timezone=True)),
    Column("categories", ARRAY(Text)),
    Column("categories_at", DateTime(timezone=True)),
)

round_ = Table(
    "round",
    metadata,
    Column("round_id", UUID(as_uuid=True), primary_key=True),
    Column("region_code", Text, nullable=False),
    Column("opens_at", DateTime(timezone=True)),
    Column("closes_at", DateTime(timezone=True)),
    Column("budget_tiyn", BigInteger),
    Column("closed_at", DateTime(timezone=True)),
)

application = Table(
    "application",
    metadata,
    Column("application_id", UUID(as_uuid=True), primary_key=True),
    Column("round_id", UUID(as_uuid=True)),
    Column("child_key", Text),
    Column("region_code", Text),
    Column("district_code", Text),
    Column("direction", Text),
    Column("submitted_at", DateTime(timezone=True)),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("waitlisted_at", DateTime(timezone=True)),
)

voucher = Table(
    "voucher",
    metadata,
    Column("voucher_id", UUID(as_uuid=True), primary_key=True),
    Column("application_id", UUID(as_uuid=True)),
    Column("round_id", UUID(as_uuid=True)),
    Column("child_key", Text),
    Column("region_code", Text),
    Column("district_code", Text),
    Column("direction", Text),
    Column("monthly_value_tiyn", BigInteger),
    Column("months", Integer),
    Column("awarded_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("end_kind", Text),  # revoked | expired
)

programme = Table(
    "programme",
    metadata,
    Column("programme_id", UUID(as_uuid=True), primary_key=True),
    Column("provider_id", UUID(as_uuid=True)),
    Column("region_code", Text),
    Column("district_code", Text),
    Column("direction", Text),
    Column("capacity", Integer),
    Column("status", Text),
    Column("source_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
)

enrolment = Table(
    "enrolment",
    metadata,
    Column("enrolment_id", UUID(as_uuid=True), primary_key=True),
    Column("voucher_id", UUID(as_uuid=True)),
    Column("programme_id", UUID(as_uuid=True)),
    Column("provider_id", UUID(as_uuid=True)),
    Column("region_code", Text),
    Column("district_code", Text),
    Column("direction", Text),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
)

timesheet = Table(
    "timesheet",
    metadata,
    Column("timesheet_id", UUID(as_uuid=True), primary_key=True),
    Column("enrolment_id", UUID(as_uuid=True), nullable=False),
    Column("programme_id", UUID(as_uuid=True), nullable=False),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("region_code", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("planned_sessions", Integer, nullable=False),
    Column("attended_sessions", Integer),
    Column("first_attended_on", Date),
    Column("submitted_at", DateTime(timezone=True)),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("basis", Text),
    Column("disputed_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
)

accrual = Table(
    "accrual",
    metadata,
    Column("accrual_id", UUID(as_uuid=True), primary_key=True),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("programme_id", UUID(as_uuid=True), nullable=False),
    Column("region_code", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("amount_tiyn", BigInteger, nullable=False),
)

payout = Table(
    "payout",
    metadata,
    Column("batch_id", UUID(as_uuid=True), primary_key=True),
    Column("provider_id", UUID(as_uuid=True), primary_key=True),
    Column("region_code", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("amount_tiyn", BigInteger, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
)

freshness = Table(
    "freshness",
    metadata,
    Column("scope", Text, primary_key=True),  # "all", or a region code
    Column("last_event_at", DateTime(timezone=True), nullable=False),
)

# the read side loads one region's facts at a time
Index("application_region", application.c.region_code)
Index("voucher_region", voucher.c.region_code)
Index("enrolment_region", enrolment.c.region_code)
Index("timesheet_region", timesheet.c.region_code)
