"""Catalog use cases: keep the consultation points of each region current."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters import repository
from catalog.domain.consultation_points import ConsultationPoint
from qosym_contracts.allocation import RegionConfiguredV1


async def apply_region_configured(session: AsyncSession, event: RegionConfiguredV1) -> None:
    """Replace the region's points in one transaction when the revision is newer; ignore stale ones."""
    if not await repository.claim_region_revision(session, event.region_code, event.revision, event.timezone):
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
