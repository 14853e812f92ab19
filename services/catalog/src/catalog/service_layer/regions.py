"""Each region's districts and consultation points as allocation configured them; places checked against them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters import region_repository
from catalog.domain.consultation_points import ConsultationPoint
from catalog.domain.programmes import RuleBroken
from catalog.service_layer.dependencies import Dependencies
from catalog.service_layer.models import ConsultationPointOut
from qosym_chassis.inputs import OffsetPage
from qosym_contracts.allocation import RegionConfiguredV1


async def on_region_configured(deps: Dependencies, session: AsyncSession, event: RegionConfiguredV1) -> None:
    """Replace the region's points in one transaction when the revision is newer; ignore stale ones."""
    districts = [d.code for d in event.districts]
    if not await region_repository.claim_region_revision(
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
    await region_repository.replace_points(session, event.region_code, event.revision, points)


async def check_place(session: AsyncSession, region_code: str, district_code: str | None) -> None:
    """The region exists (catalog has its RegionConfigured) and, when given, the district is one of its districts."""
    districts = await region_repository.region_districts(session, region_code)
    if districts is None:
        raise RuleBroken("region_code", "no such region", "unknown_region")
    if district_code is not None and district_code not in districts:
        raise RuleBroken("district_code", "no such district in this region", "unknown_district")


async def consultation_points(
    deps: Dependencies, region_code: str, district_code: str | None, limit: int, offset: int
) -> OffsetPage[ConsultationPointOut]:
    """A region's consultation points, optionally one district's (public)."""
    async with deps.sessions() as session:
        rows, total = await region_repository.points_page(session, region_code, district_code, limit, offset)
    return OffsetPage[ConsultationPointOut](
        items=[ConsultationPointOut(**r) for r in rows], total=total, limit=limit, offset=offset
    )
