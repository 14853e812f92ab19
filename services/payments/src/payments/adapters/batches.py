"""Payment batches and their items (one per provider)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters.orm import accrual, batch_item, payment_batch


async def payable_by_provider(session: AsyncSession, region_code: str, period: str) -> list[Any]:
    """Unbatched positive accruals of (region, period), summed per provider."""
    rows = await session.execute(
        text(
            "SELECT provider_id, sum(amount_tiyn) AS amount, count(*) AS n FROM accrual"
            " WHERE region_code = :r AND period = :p AND batch_id IS NULL AND amount_tiyn > 0"
            " GROUP BY provider_id ORDER BY provider_id"
        ),
        {"r": region_code, "p": period},
    )
    return list(rows)


async def claim_accruals(
    session: AsyncSession, batch_id: UUID, region_code: str, period: str, providers: list[UUID]
) -> list[Any]:
    """Put the providers' unbatched accruals into the batch; a concurrent claim waits and then finds none."""
    rows = await session.execute(
        text(
            "UPDATE accrual SET batch_id = :b WHERE region_code = :r AND period = :p AND batch_id IS NULL"
            " AND amount_tiyn > 0 AND provider_id = ANY(:providers) RETURNING provider_id, amount_tiyn"
        ),
        {"b": batch_id, "r": region_code, "p": period, "providers": providers},
    )
    return list(rows)


async def insert_batch(
    session: AsyncSession,
    batch_id: UUID,
    region_code: str,
    period: str,
    maker: str,
    providers: int,
    total: int,
    at: datetime,
) -> None:
    await session.execute(
        text(
            "INSERT INTO payment_batch (batch_id, region_code, period, status, prepared_by, providers, total_tiyn,"
            " prepared_at) VALUES (:b, :r, :p, 'prepared', :maker, :n, :total, :at)"
        ),
        {"b": batch_id, "r": region_code, "p": period, "maker": maker, "n": providers, "total": total, "at": at},
    )


async def insert_item(
    session: AsyncSession,
    item_id: UUID,
    batch_id: UUID,
    provider_id: UUID,
    amount: int,
    accruals: int,
    end_to_end_id: str,
) -> None:
    await session.execute(
        text(
            "INSERT INTO batch_item (item_id, batch_id, provider_id, amount_tiyn, accruals, end_to_end_id)"
            " VALUES (:i, :b, :p, :amount, :n, :e2e)"
        ),
        {"i": item_id, "b": batch_id, "p": provider_id, "amount": amount, "n": accruals, "e2e": end_to_end_id},
    )


async def get_batch(session: AsyncSession, batch_id: UUID, *, lock: bool = False) -> Any:
    return (
        await session.execute(
            text(f"SELECT * FROM payment_batch WHERE batch_id = :b{' FOR UPDATE' if lock else ''}"), {"b": batch_id}
        )
    ).first()


async def items(session: AsyncSession, batch_id: UUID, *, lock: bool = False) -> list[Any]:
    rows = await session.execute(
        text(f"SELECT * FROM batch_item WHERE batch_id = :b ORDER BY provider_id{' FOR UPDATE' if lock else ''}"),
        {"b": batch_id},
    )
    return list(rows)


async def items_by_end_to_end_id(session: AsyncSession, ids: list[str]) -> dict[str, Any]:
    rows = await session.execute(
        text(
            "SELECT i.*, b.status AS batch_status, b.region_code, b.period FROM batch_item i"
            " JOIN payment_batch b ON b.batch_id = i.batch_id WHERE i.end_to_end_id = ANY(:ids)"
            " ORDER BY i.batch_id, i.provider_id FOR UPDATE OF i"
        ),
        {"ids": ids},
    )
    return {row.end_to_end_id: row for row in rows}


async def approve(session: AsyncSession, batch_id: UUID, checker: str, at: datetime, xml: str, sha256: str) -> None:
    await session.execute(
        text(
            "UPDATE payment_batch SET status = 'approved', approved_by = :c, approved_at = :at, order_xml = :xml,"
            " order_sha256 = :sha WHERE batch_id = :b AND status = 'prepared'"
        ),
        {"b": batch_id, "c": checker, "at": at, "xml": xml, "sha": sha256},
    )


async def cancel(session: AsyncSession, batch_id: UUID) -> None:
    await session.execute(text("UPDATE accrual SET batch_id = NULL WHERE batch_id = :b"), {"b": batch_id})
    await session.execute(text("UPDATE payment_batch SET status = 'cancelled' WHERE batch_id = :b"), {"b": batch_id})


async def mark_item_paid(session: AsyncSession, item_id: UUID, transfer_id: UUID, reference: str, at: datetime) -> None:
    await session.execute(
        text(
            "UPDATE batch_item SET payout_transfer_id = :t, treasury_reference = :ref, paid_at = :at"
            " WHERE item_id = :i AND paid_at IS NULL"
        ),
        {"i": item_id, "t": transfer_id, "ref": reference, "at": at},
    )
    await session.execute(
        text(
            "UPDATE accrual a SET paid_at = :at FROM batch_item i WHERE i.item_id = :i AND a.batch_id = i.batch_id"
            " AND a.provider_id = i.provider_id"
        ),
        {"i": item_id, "at": at},
    )


async def mark_paid_if_complete(session: AsyncSession, batch_id: UUID, at: datetime) -> bool:
    row = (
        await session.execute(
            text(
                "UPDATE payment_batch SET status = 'paid', paid_at = :at WHERE batch_id = :b AND status = 'approved'"
                " AND NOT EXISTS (SELECT 1 FROM batch_item WHERE batch_id = :b AND paid_at IS NULL) RETURNING batch_id"
            ),
            {"b": batch_id, "at": at},
        )
    ).first()
    return row is not None


def batches_query(region_code: str | None, period: str | None, status: str | None) -> Select[Any]:
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


def provider_accruals_query(provider_id: UUID, period: str | None) -> Select[Any]:
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


def provider_payments_query(provider_id: UUID) -> Select[Any]:
    return (
        select(batch_item, payment_batch.c.region_code, payment_batch.c.period, payment_batch.c.status)
        .join(payment_batch, payment_batch.c.batch_id == batch_item.c.batch_id)
        .where(batch_item.c.provider_id == provider_id, payment_batch.c.status != "cancelled")
        .order_by(payment_batch.c.period.desc(), batch_item.c.item_id)
    )


async def provider_months(session: AsyncSession, provider_id: UUID) -> list[Any]:
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
    return list(rows)
