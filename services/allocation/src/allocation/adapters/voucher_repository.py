"""SQL for the voucher aggregate: its status, its enrolment and its deadlines (docs/architecture.md,
"Service anatomy")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class VoucherRow:
    """A voucher as stored (every column of ``voucher``)."""

    voucher_id: UUID
    round_id: UUID
    application_id: UUID
    child_id: UUID
    region_code: str
    district_code: str
    direction: str
    via: str
    monthly_value_tiyn: int
    months: int
    cost_tiyn: int
    valid_until: date
    assign_by: date
    status: str
    enrolment_id: UUID | None
    released_at: datetime | None
    reassignable_until: date | None
    awarded_at: datetime
    status_reason: str | None
    status_note: str | None

    @classmethod
    def of(cls, row: RowMapping) -> VoucherRow:
        return cls(**row)


async def lock_voucher(session: AsyncSession, voucher_id: UUID) -> VoucherRow | None:
    row = (
        (await session.execute(text("SELECT * FROM voucher WHERE voucher_id = :v FOR UPDATE"), {"v": voucher_id}))
        .mappings()
        .first()
    )
    return VoucherRow.of(row) if row else None


async def set_voucher_status(
    session: AsyncSession, voucher_id: UUID, status: str, *, reassignable_until: date | None, at: datetime
) -> None:
    """``at`` (the service clock) stamps ``released_at`` when the voucher is released."""
    await session.execute(
        text(
            """UPDATE voucher SET status = :s, enrolment_id = NULL, reassignable_until = :u,
                      released_at = CASE WHEN :s = 'released' THEN CAST(:at AS timestamptz) ELSE released_at END
               WHERE voucher_id = :v"""
        ),
        {"v": voucher_id, "s": status, "u": reassignable_until, "at": at},
    )


async def set_voucher_reason(session: AsyncSession, voucher_id: UUID, reason: str, note: str | None) -> None:
    await session.execute(
        text("UPDATE voucher SET status_reason = :r, status_note = :n WHERE voucher_id = :v"),
        {"v": voucher_id, "r": reason, "n": note},
    )


async def assign_voucher(session: AsyncSession, voucher_id: UUID, enrolment_id: UUID) -> None:
    await session.execute(
        text(
            "UPDATE voucher SET status = 'assigned', enrolment_id = :e, reassignable_until = NULL WHERE voucher_id = :v"
        ),
        {"v": voucher_id, "e": enrolment_id},
    )


async def voucher_of_enrolment(session: AsyncSession, enrolment_id: UUID, *, lock: bool = False) -> VoucherRow | None:
    sql = "SELECT * FROM voucher WHERE enrolment_id = :e" + (" FOR UPDATE" if lock else "")
    row = (await session.execute(text(sql), {"e": enrolment_id})).mappings().first()
    return VoucherRow.of(row) if row else None


async def lock_child_vouchers(session: AsyncSession, child_id: UUID) -> list[VoucherRow]:
    rows = await session.execute(
        text("SELECT * FROM voucher WHERE child_id = :c ORDER BY awarded_at, voucher_id FOR UPDATE"), {"c": child_id}
    )
    return [VoucherRow.of(r) for r in rows.mappings().all()]


async def lapsed_vouchers(session: AsyncSession, today: date) -> list[VoucherRow]:
    rows = await session.execute(
        text(
            """SELECT * FROM voucher
               WHERE (status = 'awarded' AND assign_by < :today)
                  OR (status = 'released' AND reassignable_until IS NOT NULL AND reassignable_until < :today)
               ORDER BY voucher_id FOR UPDATE SKIP LOCKED"""
        ),
        {"today": today},
    )
    return [VoucherRow.of(r) for r in rows.mappings().all()]
