"""Catalog use cases: keep each region's districts and consultation points current; check places against them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters import repository
from catalog.domain.consultation_points import ConsultationPoint
from catalog.domain.programmes import RuleBroken
from qosym_contracts.allocation import RegionConfiguredV1


async def apply_region_configured(session: AsyncSession, event: RegionConfiguredV1) -> None:
    """Replace the region's points in one transaction when the revision is newer; ignore stale ones."""
    districts = [d.code for d in event.districts]
    if not await repository.claim_region_revision(
        session, event.region_code, event.revision, event.timezone, districts
    ):
        return
    points = [
        ConsultationPoint(
            region_code=event.region_code,
            district=p.district,
            name=p.name,
            address=p.address,
            opening_days=tuple(p.opening_days),
        )
        for p in event.consultation_points
    ]
    await repository.replace_points(session, event.region_code, event.revision, points)


async def check_place(session: AsyncSession, region_code: str, district_code: str | None) -> None:
    """The region exists (catalog has its RegionConfigured) and, when given, the district is one of its districts."""
    districts = await repository.region_districts(session, region_code)
    if districts is None:
        raise RuleBroken("region_code", "no such region", "unknown_region")
    if district_code is not None and district_code not in districts:
        raise RuleBroken("district_code", "no such district in this region", "unknown_district")
