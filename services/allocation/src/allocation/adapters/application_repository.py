"""SQL for the application aggregate (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters.voucher_repository import VoucherRow


@dataclass(frozen=True)
class ApplicationRow:
    """An application as stored, its lottery number in hex."""

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

    @classmethod
    def of(cls, row: RowMapping) -> ApplicationRow:
        return cls(**row)


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


async def get_application(session: AsyncSession, application_id: UUID, *, lock: bool = False) -> ApplicationRow | None:
    sql = f"SELECT {APPLICATION_COLUMNS} FROM application WHERE application_id = :a" + (" FOR UPDATE" if lock else "")
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
