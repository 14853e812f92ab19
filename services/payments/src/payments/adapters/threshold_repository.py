"""Budget thresholds a round has reached (BudgetThresholdReached once per level)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters._sql import one


async def record_threshold(session: AsyncSession, round_id: UUID, percent: int, committed: int, at: datetime) -> bool:
    row = await one(
        session,
        "INSERT INTO budget_threshold (round_id, threshold_percent, committed_tiyn, reached_at)"
        " VALUES (:r, :p, :c, :at) ON CONFLICT DO NOTHING RETURNING round_id",
        r=round_id,
        p=percent,
        c=committed,
        at=at,
    )
    return row is not None


async def thresholds(session: AsyncSession, round_id: UUID) -> list[int]:
    """The levels (percent) the round has reached, lowest first."""
    rows = await session.execute(
        text("SELECT threshold_percent FROM budget_threshold WHERE round_id = :r ORDER BY threshold_percent"),
        {"r": round_id},
    )
    return [int(r.threshold_percent) for r in rows]
