"""Catalog persistence: the consultation-point projection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import consultation_point, region
from catalog.domain.consultation_points import ConsultationPoint


async def claim_region_revision(
    session: AsyncSession, code: str, revision: int, timezone: str, districts: Sequence[str] = ()
) -> bool:
    """Record the region's revision, time zone and districts if it is newer (row-locked until commit), or the same
    revision when the row has no districts yet (projected before they were kept); False for a stale one."""
    statement = insert(region).values(code=code, revision=revision, timezone=timezone, districts=list(districts))
    claimed = await session.execute(
        statement.on_conflict_do_update(
            index_elements=[region.c.code],
            set_={
                "revision": statement.excluded.revision,
                "timezone": statement.excluded.timezone,
                "districts": statement.excluded.districts,
                "updated_at": func.now(),
            },
            where=(region.c.revision < statement.excluded.revision)
            | ((region.c.revision == statement.excluded.revision) & region.c.districts.is_(None)),
        ).returning(region.c.code)
    )
    return claimed.first() is not None


async def region_districts(session: AsyncSession, code: str) -> list[str] | None:
    """The district codes of a region catalog knows; None for a region it has never heard of."""
    row = (await session.execute(select(region.c.districts).where(region.c.code == code))).first()
    if row is None:
        return None
    return list(row[0] or [])


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


def points_query(region_code: str, district_code: str | None) -> Select[Any]:
    query = (
        select(
            consultation_point.c.region_code,
            consultation_point.c.district,
            consultation_point.c.name,
            consultation_point.c.address,
            consultation_point.c.opening_days,
        )
        .where(consultation_point.c.region_code == region_code)
        .order_by(
            consultation_point.c.region_code,
            consultation_point.c.district,
            consultation_point.c.name,
            consultation_point.c.id,
        )
    )
    return query.where(consultation_point.c.district == district_code) if district_code else query
