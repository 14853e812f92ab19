"""Catalog tables."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Identity, Index, Integer, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB

from qosym_chassis.db import new_metadata

metadata = new_metadata()

region = Table(
    "region",
    metadata,
    Column("code", Text, primary_key=True),
    Column("revision", Integer, nullable=False),
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
