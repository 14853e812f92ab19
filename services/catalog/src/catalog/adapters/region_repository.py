"""All SQL of the region projection: its revision, time zone and districts, and its consultation points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import consultation_point, region
from catalog.domain.consultation_points import ConsultationPoint
from qosym_chassis.db import upsert_if_newer


async def claim_region_revision(
    session: AsyncSession, code: str, revision: int, timezone: str, districts: Sequence[str] = ()
) -> bool:
    """Record the region's revision, time zone and districts if it is newer (row-locked until commit), or the same
    revision when the row has no districts yet (projected before they were kept); False for a stale one."""
    return await upsert_if_newer(
        session,
        region,
        {"code": code, "revision": revision, "timezone": timezone, "districts": list(districts)},
        key=["code"],
        also_when=region.c.districts.is_(None),
    )


async def region_districts(session: AsyncSession, code: str) -> list[str] | None:
    """The district codes of a region catalog knows; None for a region it has never heard of."""
    row = (await session.execute(select(region.c.districts).where(region.c.code == code))).first()
    if row is None:
        return None
    return list(row[0] or [])


async def timezone_of(session: AsyncSession, code: str) -> str | None:
    found = await session.execute(select(region.c.timezone).where(region.c.code == code))
    return found.scalar_one_or_none()


async def replace_points(session: AsyncSession, code: str, revision: int, points: Sequence[ConsultationPoint]) -> None:
    await session.execute(delete(consultation_point).where(consultation_point.c.region_code == code))
    if points:
        await session.execute(
            insert(consultation_point),
            [
                {
                    "region_code": code,
                    "revision": revision,
                    "name": p.name,
                    "address": p.address,
                    "district": p.district,
                    "opening_days": list(p.opening_days),
                }
                for p in points
            ],
        )


def _points(region_code: str, district_code: str | None) -> Select[Any]:
    query = select(
        consultation_point.c.region_code,
        consultation_point.c.district,
        consultation_point.c.name,
        consultation_point.c.address,
        consultation_point.c.opening_days,
    ).where(consultation_point.c.region_code == region_code)
    return query.where(consultation_point.c.district == district_code) if district_code else query


async def points_page(
    session: AsyncSession, region_code: str, district_code: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of a region's (or district's) consultation points in a stable order, and how many there are."""
    query = _points(region_code, district_code)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(
        query.order_by(
            consultation_point.c.region_code,
            consultation_point.c.district,
            consultation_point.c.name,
            consultation_point.c.id,
        )
        .limit(limit)
        .offset(offset)
    )
    return [dict(r) for r in rows.mappings()], total
