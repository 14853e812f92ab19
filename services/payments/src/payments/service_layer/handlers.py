"""Payments use cases: the region budget projection."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payments.adapters import repository
from payments.domain.budget import InvalidTerms, RegionBudget
from qosym_chassis.consumer import Reject
from qosym_contracts.allocation import RegionConfiguredV1


async def apply_region_configured(session: AsyncSession, event: RegionConfiguredV1) -> None:
    try:
        budget = RegionBudget(
            code=event.region_code,
            revision=event.revision,
            budget_tiyn=event.budget_tiyn,
            voucher_monthly_value_tiyn=dict(event.voucher_monthly_value_tiyn),
            voucher_months=event.voucher_months,
        )
    except InvalidTerms as exc:  # money terms that can never be applied: dead-letter, never guess
        raise Reject(str(exc)) from exc
    await repository.upsert_region_budget(session, budget)


async def get_region_budget(sessions: async_sessionmaker[AsyncSession], code: str) -> RegionBudget | None:
    async with sessions() as session:
        return await repository.get_region_budget(session, code)
