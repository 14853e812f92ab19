"""Provider quality signals per programme (retention, disputes, complaints): shown in the public search and to
administrators and operators. Definitions: :mod:`catalog.adapters.quality_queries`."""

from __future__ import annotations

from catalog.adapters import quality_queries
from catalog.domain.programmes import RuleBroken
from catalog.service_layer.access import Caller
from catalog.service_layer.dependencies import Dependencies
from catalog.service_layer.models import ProgrammeQualityOut, QualityPage


async def region_listing(
    deps: Dependencies,
    caller: Caller,
    region_code: str | None,
    district_code: str | None,
    status: str | None,
    sort: str,
    limit: int,
    offset: int,
) -> QualityPage:
    """A region's programmes with their signals. An operator sees only the region (and district) of their scope;
    an administrator names the region. Rates sort with the programmes nobody is counted in yet last."""
    region = region_code or caller.region
    district = district_code or caller.district
    if region is None:
        raise RuleBroken("region_code", "required: the region whose programmes to list", "missing")
    if not caller.serves(region, district or ""):
        field = "region_code" if not caller.serves(region, caller.district or "") else "district_code"
        raise RuleBroken(field, "outside this operator's scope", "outside_scope")
    async with deps.sessions() as session:
        rows, total = await quality_queries.region_page(
            session,
            region,
            district,
            status,
            sort,
            limit,
            offset,
            deps.clock.now(),
            deps.settings.timesheet_grace_days,
        )
    return QualityPage(items=[ProgrammeQualityOut(**r) for r in rows], total=total, limit=limit, offset=offset)
