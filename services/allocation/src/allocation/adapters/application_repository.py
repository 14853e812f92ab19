"""SQL for the application aggregate (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters.voucher_repository import VoucherRow

APPLICATION_COLUMNS = """application_id, public_id, round_id, child_id, guardian_id, district_code, direction, status,
    submitted_at, withdrawn_at, score, encode(lottery, 'hex') AS lottery, rank, allocated_outcome, allocated_via,
    waitlist_position"""


async def insert_application(
    session: AsyncSession,
    application_id: UUID,
    public_id: UUID,
    round_id: UUID,
    child_id: UUID,
    guardian_id: UUID,
    district_code: str,
    direction: str,
) -> None:
    await session.execute(
        text(
            """INSERT INTO application (application_id, public_id, round_id, child_id, guardian_id, district_code, direction)
               VALUES (:a, :p, :r, :c, :g, :d, :dir)"""
        ),
        {
            "a": application_id,
            "p": public_id,
            "r": round_id,
            "c": child_id,
            "g": guardian_id,
            "d": district_code,
            "dir": direction,
        },
    )


async def get_application(session: AsyncSession, application_id: UUID, *, lock: bool = False) -> dict[str, Any] | None:
    sql = f"SELECT {APPLICATION_COLUMNS} FROM application WHERE application_id = :a" + (" FOR UPDATE" if lock else "")
    row = (await session.execute(text(sql), {"a": application_id})).mappings().first()
    return dict(row) if row else None


async def withdraw(session: AsyncSession, application_id: UUID) -> bool:
    row = await session.execute(
        text(
            """UPDATE application SET status = 'withdrawn', withdrawn_at = now()
               WHERE application_id = :a AND status = 'submitted' RETURNING application_id"""
        ),
        {"a": application_id},
    )
    return row.first() is not None


async def voucher_of_application(session: AsyncSession, application_id: UUID) -> VoucherRow | None:
    row = (
        (await session.execute(text("SELECT * FROM voucher WHERE application_id = :a"), {"a": application_id}))
        .mappings()
        .first()
    )
    return VoucherRow.of(row) if row else None
