"""Attendance's projection of regions (their time zone and districts) and each region's attendance rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.adapters.orm import region, region_rules
from attendance.domain.region import RegionClock
from attendance.domain.rules import DEFAULT_RULES, AttendanceRules
from qosym_chassis.db import upsert_if_newer


async def get_region(session: AsyncSession, code: str) -> RegionClock | None:
    row = (await session.execute(select(region).where(region.c.code == code))).mappings().first()
    return RegionClock(code=row["code"], revision=row["revision"], timezone=row["timezone"]) if row else None


async def upsert_region(session: AsyncSession, clock: RegionClock, districts: Sequence[str] = ()) -> None:
    """Insert or update; an older or equal revision changes nothing (except filling in the districts of a row
    projected before they were kept)."""
    await upsert_if_newer(
        session,
        region,
        {"code": clock.code, "revision": clock.revision, "timezone": clock.timezone, "districts": list(districts)},
        key=["code"],
        also_when=(region.c.revision == clock.revision) & region.c.districts.is_(None),
    )


async def region_districts(session: AsyncSession, code: str) -> list[str]:
    """The district codes of a region (empty when unknown)."""
    row = (await session.execute(select(region.c.districts).where(region.c.code == code))).first()
    return list(row[0] or []) if row else []


async def zones(session: AsyncSession) -> dict[str, str]:
    """Every known region's time zone, by code."""
    rows = await session.execute(select(region.c.code, region.c.timezone))
    return {code: tz for code, tz in rows.all()}


# --- rules -----------------------------------------------------------------------------------------


async def current_rules(session: AsyncSession, code: str) -> tuple[int, AttendanceRules, dict[str, Any] | None]:
    """(revision, rules, who set them); revision 0 is the documented defaults."""
    row = (
        (
            await session.execute(
                select(region_rules)
                .where(region_rules.c.region_code == code)
                .order_by(region_rules.c.revision.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return 0, DEFAULT_RULES, None
    return row["revision"], AttendanceRules.model_validate(row["rules"]), {"by": row["set_by"], "at": row["set_at"]}


async def rules_at(session: AsyncSession, code: str, revision: int) -> AttendanceRules:
    if revision == 0:
        return DEFAULT_RULES
    stored = await session.scalar(
        select(region_rules.c.rules).where(region_rules.c.region_code == code, region_rules.c.revision == revision)
    )
    if stored is None:
        raise LookupError(f"rules revision {revision} of {code} is missing")
    return AttendanceRules.model_validate(stored)


async def add_rules(session: AsyncSession, code: str, rules: AttendanceRules, actor: str, now: datetime) -> int:
    await session.execute(select(region.c.code).where(region.c.code == code).with_for_update())
    latest = await session.scalar(
        select(func.coalesce(func.max(region_rules.c.revision), 0)).where(region_rules.c.region_code == code)
    )
    revision = int(latest or 0) + 1
    await session.execute(
        insert(region_rules).values(
            region_code=code, revision=revision, rules=rules.model_dump(mode="json"), set_by=actor, set_at=now
        )
    )
    return revision
