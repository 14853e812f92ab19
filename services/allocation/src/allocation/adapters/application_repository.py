"""SQL for the application aggregate (docs/architecture.md, "Service anatomy").

An application row holds what the guardian submitted (and a withdrawal); what the round's allocation decided is
in ``allocation_result``, and the ``application_outcome`` view (migration 0006) joins the two with the vouchers:
its ``status`` is ``awarded`` once the application has a voucher, ``waitlisted`` when the latest run waitlisted it
and no re-offer reached it yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters.voucher_repository import VoucherRow


@dataclass(frozen=True)
class ApplicationRow:
    """An application with what the latest allocation run decided (``application_outcome``), its lottery number
    in hex and its score breakdown as ``[code, weight]`` pairs (None before allocation)."""

    application_id: UUID
    public_id: UUID
    round_id: UUID
    child_id: UUID
    guardian_id: UUID
    district_code: str
    direction: str
    status: str
    submitted_at: datetime
    withdrawn_at: datetime | None
    score: int | None
    lottery: str | None
    rank: int | None
    allocated_outcome: str | None
    allocated_via: str | None
    waitlist_position: int | None
    score_breakdown: list[list[Any]] | None

    @classmethod
    def of(cls, row: RowMapping) -> ApplicationRow:
        return cls(**row)


APPLICATION_COLUMNS = """application_id, public_id, round_id, child_id, guardian_id, district_code, direction, status,
    submitted_at, withdrawn_at, score, encode(lottery, 'hex') AS lottery, rank, allocated_outcome, allocated_via,
    waitlist_position, score_breakdown"""


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


async def get_application(session: AsyncSession, application_id: UUID) -> ApplicationRow | None:
    sql = f"SELECT {APPLICATION_COLUMNS} FROM application_outcome WHERE application_id = :a"
    row = (await session.execute(text(sql), {"a": application_id})).mappings().first()
    return ApplicationRow.of(row) if row else None


async def withdraw(session: AsyncSession, application_id: UUID, at: datetime) -> bool:
    row = await session.execute(
        text(
            """UPDATE application SET status = 'withdrawn', withdrawn_at = :at
               WHERE application_id = :a AND status = 'submitted' RETURNING application_id"""
        ),
        {"a": application_id, "at": at},
    )
    return row.first() is not None


async def voucher_of_application(session: AsyncSession, application_id: UUID) -> VoucherRow | None:
    row = (
        (await session.execute(text("SELECT * FROM voucher WHERE application_id = :a"), {"a": application_id}))
        .mappings()
        .first()
    )
    return VoucherRow.of(row) if row else None
