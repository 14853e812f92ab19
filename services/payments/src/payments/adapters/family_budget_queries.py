"""Read-side SQL of the family budget: enrolments with their voucher's terms and the ledger's accruals, for a
guardian's children or for a provider."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters._sql import rows
from payments.domain.family_budget import EnrolmentTerms, Posted
from payments.domain.periods import period_of_date

_TERMS = (
    "SELECT e.enrolment_id, e.child_id, e.programme_id, e.provider_id, e.voucher_id, e.status,"
    " e.price_per_month_tiyn, e.first_period, e.ended_period, v.monthly_value_tiyn, v.valid_until,"
    " (SELECT timezone FROM region_budget r WHERE r.region_code = e.region_code) AS timezone"
    " FROM enrolment e JOIN voucher v ON v.voucher_id = e.voucher_id"
)
_ORDER = " ORDER BY e.child_id, e.confirmed_at, e.enrolment_id"


async def _terms(session: AsyncSession, where: str, **params: Any) -> tuple[list[EnrolmentTerms], str | None]:
    """The enrolments (with what the ledger accrued for each month) and the time zone of the first one's region."""
    found = await rows(session, f"{_TERMS} WHERE {where}{_ORDER}", **params)
    ids = [r.enrolment_id for r in found]
    posted: dict[UUID, list[Posted]] = defaultdict(list)
    if ids:
        for a in await rows(
            session,
            "SELECT enrolment_id, period, amount_tiyn, payable_sessions, planned_sessions FROM accrual"
            " WHERE enrolment_id = ANY(:ids) ORDER BY period",
            ids=ids,
        ):
            posted[a.enrolment_id].append(Posted(a.period, a.amount_tiyn, a.payable_sessions, a.planned_sessions))
    terms = [
        EnrolmentTerms(
            enrolment_id=r.enrolment_id,
            child_id=r.child_id,
            programme_id=r.programme_id,
            provider_id=r.provider_id,
            voucher_id=r.voucher_id,
            status=r.status,
            monthly_value_tiyn=r.monthly_value_tiyn,
            price_per_month_tiyn=r.price_per_month_tiyn,
            first_period=r.first_period,
            ended_period=r.ended_period,
            last_voucher_period=period_of_date(r.valid_until),
            posted=tuple(posted[r.enrolment_id]),
        )
        for r in found
    ]
    return terms, next((r.timezone for r in found if r.timezone), None)


async def guardian_enrolments(session: AsyncSession, guardian_id: UUID) -> tuple[list[EnrolmentTerms], str | None]:
    return await _terms(
        session, "e.child_id IN (SELECT child_id FROM guardianship WHERE guardian_id = :g)", g=guardian_id
    )


async def provider_enrolments(session: AsyncSession, provider_id: UUID) -> tuple[list[EnrolmentTerms], str | None]:
    return await _terms(session, "e.provider_id = :p", p=provider_id)
