"""Registry tables."""

from __future__ import annotations

from qosym_chassis.db import new_metadata
from sqlalchemy import Column, Date, DateTime, Integer, LargeBinary, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID

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
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

region = Table(
    "region",
    metadata,
    Column("code", Text, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("districts", JSONB, nullable=False),
    Column("child_age_min", Integer, nullable=False),
    Column("child_age_max", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
