"""Read-side listings of batches and of a provider's money (paged)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters._sql import page
from payments.adapters.batch_repository import BatchSummary
from payments.adapters.orm import accrual, batch_item, payment_batch


def _batches_query(region_code: str | None, period: str | None, status: str | None) -> Select[Any]:
    query = select(*[c for c in payment_batch.c if c.name != "order_xml"]).order_by(
        payment_batch.c.prepared_at.desc(), payment_batch.c.batch_id
    )
    if region_code:
        query = query.where(payment_batch.c.region_code == region_code)
    if period:
        query = query.where(payment_batch.c.period == period)
    if status:
        query = query.where(payment_batch.c.status == status)
    return query


def _provider_accruals_query(provider_id: UUID, period: str | None) -> Select[Any]:
    query = (
        select(accrual, batch_item.c.treasury_reference)
        .outerjoin(
            batch_item,
            (batch_item.c.batch_id == accrual.c.batch_id) & (batch_item.c.provider_id == accrual.c.provider_id),
        )
        .where(accrual.c.provider_id == provider_id)
        .order_by(accrual.c.period.desc(), accrual.c.child_id, accrual.c.accrual_id)
    )
    return query.where(accrual.c.period == period) if period else query


def _provider_payments_query(provider_id: UUID) -> Select[Any]:
    return (
        select(batch_item, payment_batch.c.region_code, payment_batch.c.period, payment_batch.c.status)
        .join(payment_batch, payment_batch.c.batch_id == batch_item.c.batch_id)
        .where(batch_item.c.provider_id == provider_id, payment_batch.c.status != "cancelled")
        .order_by(payment_batch.c.period.desc(), batch_item.c.item_id)
    )


@dataclass(frozen=True)
class ProviderAccrual:
    accrual_id: UUID
    period: str
    child_id: UUID
    enrolment_id: UUID
    programme_id: UUID
    voucher_id: UUID
    amount_tiyn: int
    payable_sessions: int
    planned_sessions: int
    price_per_month_tiyn: int
    batch_id: UUID | None
    paid_at: datetime | None
    treasury_reference: str | None
    posted_at: datetime

    @property
    def status(self) -> str:
        return "paid" if self.paid_at else "in_batch" if self.batch_id else "accrued"


@dataclass(frozen=True)
class ProviderPayment:
    batch_id: UUID
    region_code: str
    period: str
    amount_tiyn: int
    status: str
    treasury_reference: str | None
    paid_at: datetime | None


@dataclass(frozen=True)
class ProviderMonthChild:
    period: str
    child_id: UUID
    enrolment_id: UUID
    accrued: int
    paid: int
    payable_sessions: int
    planned_sessions: int


def _fields(cls: type[Any], row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in cls.__dataclass_fields__}


async def batches(
    session: AsyncSession, region_code: str | None, period: str | None, status: str | None, limit: int, offset: int
) -> tuple[int, list[BatchSummary]]:
    total, rows = await page(session, _batches_query(region_code, period, status), limit, offset)
    return total, [BatchSummary(**_fields(BatchSummary, r)) for r in rows]


async def provider_accruals(
    session: AsyncSession, provider_id: UUID, period: str | None, limit: int, offset: int
) -> tuple[int, list[ProviderAccrual]]:
    total, rows = await page(session, _provider_accruals_query(provider_id, period), limit, offset)
    return total, [ProviderAccrual(**_fields(ProviderAccrual, r)) for r in rows]


async def provider_payments(
    session: AsyncSession, provider_id: UUID, limit: int, offset: int
) -> tuple[int, list[ProviderPayment]]:
    total, rows = await page(session, _provider_payments_query(provider_id), limit, offset)
    return total, [ProviderPayment(**_fields(ProviderPayment, r)) for r in rows]


async def provider_months(session: AsyncSession, provider_id: UUID) -> list[ProviderMonthChild]:
    """Per month and child: accrued, of which paid."""
    rows = await session.execute(
        text(
            "SELECT period, child_id, enrolment_id, sum(amount_tiyn) AS accrued,"
            " coalesce(sum(amount_tiyn) FILTER (WHERE paid_at IS NOT NULL), 0) AS paid,"
            " sum(payable_sessions) AS payable_sessions, sum(planned_sessions) AS planned_sessions"
            " FROM accrual WHERE provider_id = :p GROUP BY period, child_id, enrolment_id"
            " ORDER BY period DESC, child_id, enrolment_id"
        ),
        {"p": provider_id},
    )
    return [
        ProviderMonthChild(
            r.period,
            r.child_id,
            r.enrolment_id,
            int(r.accrued),
            int(r.paid),
            int(r.payable_sessions),
            int(r.planned_sessions),
        )
        for r in rows
    ]
