"""Registry tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Identity, Integer, LargeBinary, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID

from qosym_chassis.audit import define_audit_table
from qosym_chassis.db import new_metadata

metadata = new_metadata()

child = Table(
    "child",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("iin_index", LargeBinary, nullable=False, unique=True),
    Column("iin_ciphertext", LargeBinary, nullable=False),
    Column("iin_last4", Text, nullable=False),
    Column("guardian_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("birth_date", Date, nullable=False),
    Column("sex", Text, nullable=False),
    Column("region_code", Text, nullable=False),
    Column("district_code", Text, nullable=False),
    Column("flags", JSONB, nullable=False, server_default="[]"),
    Column("name", Text, nullable=True),  # a display name for the child's coaches (never in an event)
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

provider_enrolment = Table(
    # catalog's enrolments as registry needs them: which provider may read which child's display name
    "provider_enrolment",
    metadata,
    Column("enrolment_id", UUID(as_uuid=True), primary_key=True),
    Column("child_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("provider_id", UUID(as_uuid=True), nullable=True, index=True),  # None: the end arrived first
    Column("ended", Boolean, nullable=False, server_default="false"),
)

region = Table(
    "region",
    metadata,
    Column("code", Text, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("districts", JSONB, nullable=False),
    Column("child_age_min", Integer, nullable=False),
    Column("child_age_max", Integer, nullable=False),
    Column("category_codes", JSONB, nullable=False, server_default="[]"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def _ts(name: str, *, nullable: bool = False, default: bool = False) -> Column[datetime]:
    return Column(name, DateTime(timezone=True), nullable=nullable, server_default=func.now() if default else None)


person = Table(
    "person",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("iin_index", LargeBinary, nullable=False, unique=True),
    Column("iin_ciphertext", LargeBinary, nullable=False),
    Column("iin_last4", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", Text, nullable=False),
    Column("phone", Text),
    Column("flags", JSONB, nullable=False, server_default="[]"),
    _ts("created_at", default=True),
)

consent = Table(
    "consent",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("granted", Boolean, nullable=False),
    _ts("recorded_at", default=True),
)

guardianship = Table(
    "guardianship",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("child_id", UUID(as_uuid=True), nullable=False),
    Column("guardian_id", UUID(as_uuid=True), nullable=False),
    Column("relation", Text, nullable=False),
    _ts("established_at", default=True),
    _ts("ended_at", nullable=True),
)

category_claim = Table(
    "category_claim",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("child_id", UUID(as_uuid=True), nullable=False),
    Column("code", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("valid_from", Date),
    Column("valid_until", Date),
    Column("decided_by", Text),
    Column("reason", Text),
    _ts("declared_at", default=True),
    _ts("decided_at", nullable=True),
)

evidence = Table(
    "evidence",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("claim_id", UUID(as_uuid=True), nullable=False),
    Column("stored_name", Text, nullable=False, unique=True),
    Column("content_type", Text, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    _ts("uploaded_at", default=True),
)

otp_challenge = Table(
    "otp_challenge",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False),
    Column("code_hash", LargeBinary, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    _ts("expires_at"),
    _ts("used_at", nullable=True),
    _ts("created_at", default=True),
)

refresh_token = Table(
    "refresh_token",
    metadata,
    Column("token_hash", LargeBinary, primary_key=True),
    Column("family_id", UUID(as_uuid=True), nullable=False),
    Column("subject", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("scope", JSONB, nullable=False),
    _ts("expires_at"),
    _ts("used_at", nullable=True),
    _ts("revoked_at", nullable=True),
    _ts("created_at", default=True),
)

staff = Table(
    "staff",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("totp_ciphertext", LargeBinary, nullable=False),
    Column("role", Text, nullable=False),
    Column("scope", JSONB, nullable=False),
    Column("active", Boolean, nullable=False, server_default="true"),
    _ts("created_at", default=True),
)

audit_log = define_audit_table(metadata)

service_account = Table(
    "service_account",
    metadata,
    Column("client_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False, server_default="true"),
    _ts("created_at", default=True),
)

assisted_change = Table(
    "assisted_change",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("operator", Text, nullable=False),
    Column("person_id", UUID(as_uuid=True), nullable=False),
    Column("challenge_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("sealed_payload", LargeBinary, nullable=False),
    _ts("created_at", default=True),
    _ts("applied_at", nullable=True),
)
