"""Disputes of a month and their disputed sessions, with the operator's rulings."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.adapters.orm import dispute, disputed_session


async def open_dispute(session: AsyncSession, values: dict[str, Any], sessions: list[dict[str, Any]]) -> None:
    """The dispute and its disputed sessions (each with the dispute's id)."""
    await session.execute(insert(dispute).values(**values))
    await session.execute(insert(disputed_session), [{"dispute_id": values["id"], **s} for s in sessions])


async def get(session: AsyncSession, dispute_id: UUID, *, lock: bool = False) -> dict[str, Any] | None:
    query = select(dispute).where(dispute.c.id == dispute_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row else None


async def of_timesheet(session: AsyncSession, timesheet_id: UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(dispute).where(dispute.c.timesheet_id == timesheet_id))).mappings().first()
    return dict(row) if row else None


async def sessions_of(session: AsyncSession, dispute_id: UUID) -> list[dict[str, Any]]:
    """The disputed sessions, in session order."""
    rows = await session.execute(
        select(disputed_session)
        .where(disputed_session.c.dispute_id == dispute_id)
        .order_by(disputed_session.c.starts_at)
    )
    return [dict(d) for d in rows.mappings()]


async def rule(session: AsyncSession, dispute_id: UUID, starts_at: datetime, ruling: str) -> None:
    await session.execute(
        update(disputed_session)
        .where(disputed_session.c.dispute_id == dispute_id, disputed_session.c.starts_at == starts_at)
        .values(ruling=ruling)
    )


async def close(session: AsyncSession, dispute_id: UUID, **values: Any) -> None:
    await session.execute(update(dispute).where(dispute.c.id == dispute_id).values(status="resolved", **values))
