"""Attendance use cases: the region projection and the current period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attendance.adapters import repository
from attendance.domain.period import Period, UnknownTimeZone, period_containing, zone
from attendance.domain.region import RegionClock
from qosym_chassis.consumer import Reject
from qosym_contracts.allocation import RegionConfiguredV1


class UnknownRegion(LookupError):
    pass


async def apply_region_configured(session: AsyncSession, event: RegionConfiguredV1) -> None:
    try:
        zone(event.timezone)
    except UnknownTimeZone as exc:  # a zone our tzdata lacks would break every period: dead-letter it
        raise Reject(str(exc)) from exc
    clock = RegionClock(code=event.region_code, revision=event.revision, timezone=event.timezone)
    await repository.upsert_region(session, clock)


async def current_period(
    sessions: async_sessionmaker[AsyncSession], code: str, now_utc: datetime
) -> tuple[RegionClock, Period]:
    async with sessions() as session:
        clock = await repository.get_region(session, code)
    if clock is None:
        raise UnknownRegion(code)
    return clock, period_containing(now_utc, clock.timezone)
