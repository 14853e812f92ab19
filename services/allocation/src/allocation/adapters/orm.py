"""Allocation tables."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Integer, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID

from qosym_chassis.db import new_metadata

metadata = new_metadata()

region = Table(
    "region",
    metadata,
    Column("code", Text, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("config", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_by", Text, nullable=False),
)

child = Table(
    "child",
    metadata,
    Column("child_id", UUID(as_uuid=True), primary_key=True),
    Column("guardian_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("birth_date", Date, nullable=False),
    Column("sex", Text, nullable=False),
    Column("region_code", Text, nullable=False),
    Column("district_code", Text, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)
