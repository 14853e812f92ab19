"""Attendance persistence: the region projection."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.adapters.orm import region
from attendance.domain.region import RegionClock


async def get_region(session: AsyncSession, code: str) -> RegionClock | None:
    row = (await session.execute(select(region).where(region.c.code == code))).mappings().first()
    return RegionClock(code=row["code"], revision=row["revision"], timezone=row["timezone"]) if row else None


async def upsert_region(session: AsyncSession, clock: RegionClock) -> None:
    """Insert or update; an older or equal revision changes nothing."""
    statement = insert(region).values(code=clock.code, revision=clock.revision, timezone=clock.timezone)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[region.c.code],
            set_={
                "revision": statement.excluded.revision,
                "timezone": statement.excluded.timezone,
                "updated_at": func.now(),
            },
            where=region.c.revision < statement.excluded.revision,
        )
    )
