"""The region projection: what allocation configures (districts, ages, priority categories), kept by revision."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from qosym_contracts.allocation import RegionConfiguredV1
from registry.adapters import region_repository
from registry.domain.model import RegionRules
from registry.service_layer.dependencies import Dependencies


async def on_region_configured(deps: Dependencies | None, session: AsyncSession, event: RegionConfiguredV1) -> None:
    rules = RegionRules(
        code=event.region_code,
        districts=frozenset(d.code for d in event.districts),
        child_age_min=event.child_age_min,
        child_age_max=event.child_age_max,
        category_codes=frozenset(event.priority_weights),
    )
    await region_repository.upsert_region(session, rules, event.revision)
