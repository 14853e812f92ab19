"""Attendance tables."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, Table, Text, func

from qosym_chassis.db import new_metadata

metadata = new_metadata()

region = Table(
    "region",
    metadata,
    Column("code", Text, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
