"""Payments tables."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Integer, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB

from qosym_chassis.db import new_metadata

metadata = new_metadata()

region_budget = Table(
    "region_budget",
    metadata,
    Column("region_code", Text, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("budget_tiyn", BigInteger, nullable=False),
    Column("voucher_monthly_value_tiyn", JSONB, nullable=False),
    Column("voucher_months", Integer, nullable=False),
    Column("timezone", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("budget_tiyn >= 0", name="budget_non_negative"),
    CheckConstraint("voucher_months >= 1", name="months_positive"),
)
