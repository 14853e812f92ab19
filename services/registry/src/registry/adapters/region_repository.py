"""All SQL for the region projection (revisioned: an older revision never overwrites a newer one)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis.db import upsert_if_newer
from registry.adapters.orm import region
from registry.domain.model import RegionRules


async def get_region(session: AsyncSession, code: str) -> RegionRules | None:
    row = (await session.execute(select(region).where(region.c.code == code))).mappings().first()
    if row is None:
        return None
    return RegionRules(
        code=row["code"],
        districts=frozenset(row["districts"]),
        child_age_min=row["child_age_min"],
        child_age_max=row["child_age_max"],
        category_codes=frozenset(row["category_codes"]),
    )


async def upsert_region(session: AsyncSession, rules: RegionRules, revision: int) -> None:
    values = {
        "code": rules.code,
        "revision": revision,
        "districts": sorted(rules.districts),
        "child_age_min": rules.child_age_min,
        "child_age_max": rules.child_age_max,
        "category_codes": sorted(rules.category_codes),
    }
    await upsert_if_newer(session, region, values, key=["code"], touch=None)
