"""Periodic work of the consumers process."""

from __future__ import annotations

from datetime import datetime

from payments.domain import periods
from payments.service_layer import flows
from payments.service_layer.dependencies import Dependencies


def cutoff_period(now: datetime, timeout_months: int) -> str:
    """Holds of months before this one have timed out (UTC month of ``now`` minus the timeout)."""
    index = periods.month_index(periods.period_of(now, "UTC")) - timeout_months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


async def void_stale_holds(deps: Dependencies) -> int:
    """Holds of long-past months that were never posted are voided, without anyone calling an API."""
    cutoff = cutoff_period(deps.clock.now(), deps.policy.hold_timeout_months)
    total = 0
    while True:
        async with deps.sessions() as session, session.begin():
            done = await flows.void_stale_holds(deps, session, cutoff, limit=200)
        total += done
        if done < 200:
            return total
