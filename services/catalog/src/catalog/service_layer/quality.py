"""Provider quality signals per programme (retention, disputes, complaints): shown in the public search and to
administrators and operators. Definitions: :mod:`catalog.adapters.quality_sql`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters import quality_sql
from catalog.domain.programmes import RuleBroken
from catalog.service_layer.access import Caller
from catalog.service_layer.providers import Sessions


async def of_programmes(
    session: AsyncSession, ids: Iterable[UUID], now: datetime, grace_days: int
) -> dict[UUID, dict[str, Any]]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = await session.execute(text(quality_sql.for_ids()), quality_sql.parameters(now, grace_days, ids=wanted))
    return {row["programme_id"]: quality_sql.block(row) for row in rows.mappings()}


async def region_listing(
    sessions: Sessions,
    caller: Caller,
    filters: dict[str, Any],
    sort: str,
    limit: int,
    offset: int,
    now: datetime,
    grace_days: int,
) -> dict[str, Any]:
    """A region's programmes with their signals. An operator sees only the region (and district) of their scope."""
    region = filters.get("region_code") or caller.region
    district = filters.get("district_code") or caller.district
    if region is None:
        raise RuleBroken("region_code", "required: the region whose programmes to list", "missing")
    if not caller.serves(region, district or ""):
        field = "region_code" if not caller.serves(region, caller.district or "") else "district_code"
        raise RuleBroken(field, "outside this operator's scope", "outside_scope")
    params = quality_sql.parameters(
        now, grace_days, region=region, district=district, status=filters.get("status"), limit=limit, offset=offset
    )
    by_district, by_status = district is not None, filters.get("status") is not None
    async with sessions() as session:
        total = (await session.execute(text(quality_sql.count_in_region(by_district, by_status)), params)).scalar_one()
        rows = await session.execute(text(quality_sql.for_region(by_district, by_status, sort)), params)
        items = [
            {
                "programme_id": row["id"],
                "provider_id": row["provider_id"],
                "provider_name": row["provider_name"],
                "status": row["status"],
                "direction": row["direction"],
                "title": row["title"],
                "district_code": row["district_code"],
                "capacity": row["capacity"],
                "free_seats": row["free_seats"],
                "quality": quality_sql.block(row),
            }
            for row in rows.mappings()
        ]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
