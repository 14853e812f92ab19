"""The officials' view of a region's programmes with their quality signals."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from catalog.entrypoints.dependencies import Deps, DistrictQuery, Official, RegionQuery, caller_of
from catalog.entrypoints.schemas import QualityPage
from catalog.service_layer import quality

router = APIRouter(tags=["admin"])

QualitySort = Literal[
    "title",
    "retention_2m",
    "-retention_2m",
    "retention_3m",
    "-retention_3m",
    "dispute_rate",
    "-dispute_rate",
    "complaints",
    "-complaints",
]


@router.get("/v1/admin/programmes/quality", responses={422: {}})
async def programme_quality(
    who: Official,
    deps: Deps,
    region_code: RegionQuery = None,
    district_code: DistrictQuery = None,
    status_: Annotated[Literal["published", "suspended", "closed"] | None, Query(alias="status")] = None,
    sort: QualitySort = "title",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> QualityPage:
    """A region's programmes with their quality signals (retention after 2 and 3 months, dispute rate, complaints).

    An operator's region (and district) comes from their scope; an administrator names the region.
    Rates sort with the programmes nobody is counted in yet last.
    """
    return await quality.region_listing(deps, caller_of(who), region_code, district_code, status_, sort, limit, offset)
