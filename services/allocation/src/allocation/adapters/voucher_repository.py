"""SQL for the voucher aggregate: its status, its enrolment and its deadlines (docs/architecture.md,
"Service anatomy")."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def lock_voucher(session: AsyncSession, voucher_id: UUID) -> dict[str, Any] | None:
    row = (
        (await session.execute(text("SELECT * FROM voucher WHERE voucher_id = :v FOR UPDATE"), {"v": voucher_id}))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def set_voucher_status(
    session: AsyncSession, voucher_id: UUID, status: str, *, reassignable_until: date | None
) -> None:
    await session.execute(
        text(
            """UPDATE voucher SET status = :s, enrolment_id = NULL, reassignable_until = :u,
                      released_at = CASE WHEN :s = 'released' THEN now() ELSE released_at END
               WHERE voucher_id = :v"""
        ),
        {"v": voucher_id, "s": status, "u": reassignable_until},
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


async def voucher_of_enrolment(
    session: AsyncSession, enrolment_id: UUID, *, lock: bool = False
) -> dict[str, Any] | None:
    sql = "SELECT * FROM voucher WHERE enrolment_id = :e" + (" FOR UPDATE" if lock else "")
    row = (await session.execute(text(sql), {"e": enrolment_id})).mappings().first()
    return dict(row) if row else None


async def lock_child_vouchers(session: AsyncSession, child_id: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text("SELECT * FROM voucher WHERE child_id = :c ORDER BY awarded_at, voucher_id FOR UPDATE"), {"c": child_id}
    )
    return [dict(r) for r in rows.mappings().all()]


async def lapsed_vouchers(session: AsyncSession, today: date) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            """SELECT * FROM voucher
               WHERE (status = 'awarded' AND assign_by < :today)
                  OR (status = 'released' AND reassignable_until IS NOT NULL AND reassignable_until < :today)
               ORDER BY voucher_id FOR UPDATE SKIP LOCKED"""
        ),
        {"today": today},
    )
    return [dict(r) for r in rows.mappings().all()]
