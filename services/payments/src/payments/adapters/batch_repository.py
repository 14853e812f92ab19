"""Payment batches and their items (one per provider): the write side and the batch as one record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class BatchSummary:
    """A batch as listed (``payment_queries.batches``)."""

    batch_id: UUID
    region_code: str
    period: str
    status: str
    prepared_by: str
    approved_by: str | None
    providers: int
    total_tiyn: int
    prepared_at: datetime
    order_sha256: str | None


@dataclass(frozen=True)
class BatchRecord(BatchSummary):
    """The batch as one record: its summary, when it was approved and paid, and its payment order."""

    approved_at: datetime | None
    paid_at: datetime | None
    order_xml: str | None


@dataclass(frozen=True)
class BatchItemRecord:
    item_id: UUID
    batch_id: UUID
    provider_id: UUID
    amount_tiyn: int
    accruals: int
    end_to_end_id: str
    payout_transfer_id: UUID | None
    treasury_reference: str | None
    paid_at: datetime | None


@dataclass(frozen=True)
class StatementItem:
    """A batch item found by its end-to-end id, with its batch's state."""

    item: BatchItemRecord
    batch_status: str


@dataclass(frozen=True)
class ProviderPayable:
    provider_id: UUID
    amount: int
    n: int


@dataclass(frozen=True)
class ClaimedAccrual:
    provider_id: UUID
    amount_tiyn: int


_BATCH_FIELDS = tuple(BatchRecord.__dataclass_fields__)
_ITEM_FIELDS = tuple(BatchItemRecord.__dataclass_fields__)


def _batch(row: Row[Any]) -> BatchRecord:
    return BatchRecord(**{name: getattr(row, name) for name in _BATCH_FIELDS})


def _item(row: Row[Any]) -> BatchItemRecord:
    return BatchItemRecord(**{name: getattr(row, name) for name in _ITEM_FIELDS})


async def payable_by_provider(session: AsyncSession, region_code: str, period: str) -> list[ProviderPayable]:
    """Unbatched positive accruals of (region, period), summed per provider."""
    rows = await session.execute(
        text(
            "SELECT provider_id, sum(amount_tiyn) AS amount, count(*) AS n FROM accrual"
            " WHERE region_code = :r AND period = :p AND batch_id IS NULL AND amount_tiyn > 0"
            " GROUP BY provider_id ORDER BY provider_id"
        ),
        {"r": region_code, "p": period},
    )
    return [ProviderPayable(r.provider_id, int(r.amount), int(r.n)) for r in rows]


async def claim_accruals(
    session: AsyncSession, batch_id: UUID, region_code: str, period: str, providers: list[UUID]
) -> list[ClaimedAccrual]:
    """Put the providers' unbatched accruals into the batch; a concurrent claim waits and then finds none."""
    rows = await session.execute(
        text(
            "UPDATE accrual SET batch_id = :b WHERE region_code = :r AND period = :p AND batch_id IS NULL"
            " AND amount_tiyn > 0 AND provider_id = ANY(:providers) RETURNING provider_id, amount_tiyn"
        ),
        {"b": batch_id, "r": region_code, "p": period, "providers": providers},
    )
    return [ClaimedAccrual(r.provider_id, r.amount_tiyn) for r in rows]


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


async def get_batch(session: AsyncSession, batch_id: UUID, *, lock: bool = False) -> BatchRecord | None:
    row = (
        await session.execute(
            text(f"SELECT * FROM payment_batch WHERE batch_id = :b{' FOR UPDATE' if lock else ''}"), {"b": batch_id}
        )
    ).first()
    return _batch(row) if row else None


async def items(session: AsyncSession, batch_id: UUID, *, lock: bool = False) -> list[BatchItemRecord]:
    rows = await session.execute(
        text(f"SELECT * FROM batch_item WHERE batch_id = :b ORDER BY provider_id{' FOR UPDATE' if lock else ''}"),
        {"b": batch_id},
    )
    return [_item(r) for r in rows]


async def items_by_end_to_end_id(session: AsyncSession, ids: list[str]) -> dict[str, StatementItem]:
    rows = await session.execute(
        text(
            "SELECT i.*, b.status AS batch_status, b.region_code, b.period FROM batch_item i"
            " JOIN payment_batch b ON b.batch_id = i.batch_id WHERE i.end_to_end_id = ANY(:ids)"
            " ORDER BY i.batch_id, i.provider_id FOR UPDATE OF i"
        ),
        {"ids": ids},
    )
    return {row.end_to_end_id: StatementItem(_item(row), row.batch_status) for row in rows}


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
