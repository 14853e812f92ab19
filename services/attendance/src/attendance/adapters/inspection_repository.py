"""Announced inspections of a region (or one of its districts, or one provider)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.adapters.orm import inspection


async def add(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(inspection).values(**values))


def of_region(region_code: str, district_code: str | None = None) -> Select[Any]:
    """The region's inspections, oldest first; with a district, only those of the whole region and of it."""
    query = select(inspection).where(inspection.c.region_code == region_code)
    if district_code is not None:
        query = query.where(or_(inspection.c.district_code.is_(None), inspection.c.district_code == district_code))
    return query.order_by(inspection.c.announced_at, inspection.c.id)
