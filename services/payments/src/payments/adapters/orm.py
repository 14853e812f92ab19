"""Payments tables."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Integer, Table, Text, Uuid, func
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
    Column(
        "treasury_account", JSONB(none_as_null=True)
    ),  # {"name", "iban", "bic"} where the region file names it (migration 0009)
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("budget_tiyn >= 0", name="budget_non_negative"),
    CheckConstraint("voucher_months >= 1", name="months_positive"),
)

# Tables of migration 0002 that are read with SQLAlchemy Core (paged lists); the rest is plain SQL in the
# repositories (adapters/*_repository.py), the query modules and adapters/ledger.py.
accrual = Table(
    "accrual",
    metadata,
    Column("accrual_id", Uuid, primary_key=True),
    Column("enrolment_id", Uuid, nullable=False),
    Column("period", Text, nullable=False),
    Column("provider_id", Uuid, nullable=False),
    Column("child_id", Uuid, nullable=False),
    Column("voucher_id", Uuid, nullable=False),
    Column("round_id", Uuid, nullable=False),
    Column("programme_id", Uuid, nullable=False),
    Column("timesheet_id", Uuid, nullable=False),
    Column("region_code", Text, nullable=False),
    Column("amount_tiyn", BigInteger, nullable=False),
    Column("payable_sessions", Integer, nullable=False),
    Column("planned_sessions", Integer, nullable=False),
    Column("price_per_month_tiyn", BigInteger, nullable=False),
    Column("transfer_id", Uuid),
    Column("cause_event_id", Uuid, nullable=False),
    Column("batch_id", Uuid),
    Column("paid_at", DateTime(timezone=True)),
    Column("posted_at", DateTime(timezone=True), nullable=False),
)

payment_batch = Table(
    "payment_batch",
    metadata,
    Column("batch_id", Uuid, primary_key=True),
    Column("region_code", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("prepared_by", Text, nullable=False),
    Column("approved_by", Text),
    Column("providers", Integer, nullable=False),
    Column("total_tiyn", BigInteger, nullable=False),
    Column("prepared_at", DateTime(timezone=True), nullable=False),
    Column("approved_at", DateTime(timezone=True)),
    Column("paid_at", DateTime(timezone=True)),
    Column("order_xml", Text),
    Column("order_sha256", Text),
)

batch_item = Table(
    "batch_item",
    metadata,
    Column("item_id", Uuid, primary_key=True),
    Column("batch_id", Uuid, nullable=False),
    Column("provider_id", Uuid, nullable=False),
    Column("amount_tiyn", BigInteger, nullable=False),
    Column("accruals", Integer, nullable=False),
    Column("end_to_end_id", Text, nullable=False),
    Column("payout_transfer_id", Uuid),
    Column("treasury_reference", Text),
    Column("paid_at", DateTime(timezone=True)),
)
