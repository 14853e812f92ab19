"""Read-side SQL of reconciliation: payments' own side of each comparison."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters._sql import rows


@dataclass(frozen=True)
class RefusedVoucher:
    voucher_id: UUID
    round_id: UUID
    requested_tiyn: int
    available_at_refusal_tiyn: int | None


@dataclass(frozen=True)
class FundedVoucher:
    voucher_id: UUID
    monthly_value_tiyn: int
    months: int
    status: str


@dataclass(frozen=True)
class PostedAccrual:
    enrolment_id: UUID
    amount_tiyn: int
    payable_sessions: int
    planned_sessions: int
    price_per_month_tiyn: int
    monthly_value_tiyn: int


async def refused_vouchers(session: AsyncSession, region_code: str | None) -> list[RefusedVoucher]:
    found = await rows(
        session,
        "SELECT voucher_id, round_id, requested_tiyn, available_at_refusal_tiyn FROM voucher WHERE status = 'refused'"
        " AND (CAST(:r AS TEXT) IS NULL OR region_code = :r) ORDER BY created_at",
        r=region_code,
    )
    return [RefusedVoucher(r.voucher_id, r.round_id, r.requested_tiyn, r.available_at_refusal_tiyn) for r in found]


async def vouchers_of_round(session: AsyncSession, round_id: UUID) -> dict[UUID, FundedVoucher]:
    found = await rows(
        session, "SELECT voucher_id, monthly_value_tiyn, months, status FROM voucher WHERE round_id = :r", r=round_id
    )
    return {r.voucher_id: FundedVoucher(r.voucher_id, r.monthly_value_tiyn, r.months, r.status) for r in found}


async def periods_with_money(session: AsyncSession, region_code: str | None) -> list[tuple[str, str]]:
    """(region, period) pairs that have accruals or holds."""
    found = await rows(
        session,
        "SELECT DISTINCT region_code, period FROM accrual WHERE CAST(:r AS TEXT) IS NULL OR region_code = :r"
        " UNION SELECT DISTINCT e.region_code, h.period FROM hold h JOIN enrolment e ON e.enrolment_id = h.enrolment_id"
        " WHERE CAST(:r AS TEXT) IS NULL OR e.region_code = :r",
        r=region_code,
    )
    return [(r.region_code, r.period) for r in found]


async def accruals_of(session: AsyncSession, region: str, period: str) -> dict[UUID, PostedAccrual]:
    found = await rows(
        session,
        "SELECT a.enrolment_id, a.amount_tiyn, a.payable_sessions, a.planned_sessions, a.price_per_month_tiyn,"
        " v.monthly_value_tiyn FROM accrual a JOIN voucher v ON v.voucher_id = a.voucher_id"
        " WHERE a.region_code = :r AND a.period = :p",
        r=region,
        p=period,
    )
    return {
        r.enrolment_id: PostedAccrual(
            r.enrolment_id,
            r.amount_tiyn,
            r.payable_sessions,
            r.planned_sessions,
            r.price_per_month_tiyn,
            r.monthly_value_tiyn,
        )
        for r in found
    }
