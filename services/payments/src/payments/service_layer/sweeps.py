"""Periodic work of the consumers process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payments.domain import periods
from payments.service_layer.flows import Flows


def cutoff_period(now: datetime, timeout_months: int) -> str:
    """Holds of months before this one have timed out (UTC month of ``now`` minus the timeout)."""
    index = periods.month_index(periods.period_of(now, "UTC")) - timeout_months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


async def void_stale_holds(
    flows: Flows, sessions: async_sessionmaker[AsyncSession], now: datetime, timeout_months: int
) -> int:
    total = 0
    while True:
        async with sessions() as session, session.begin():
            done = await flows.void_stale_holds(session, cutoff_period(now, timeout_months), limit=200)
        total += done
        if done < 200:
            return total
