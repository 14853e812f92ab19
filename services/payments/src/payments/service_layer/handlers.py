"""Payments read use cases: the region budget projection."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payments.adapters import repository
from payments.domain.budget import RegionBudget


async def get_region_budget(sessions: async_sessionmaker[AsyncSession], code: str) -> RegionBudget | None:
    async with sessions() as session:
        return await repository.get_region_budget(session, code)
