"""The public programme search and programme page."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from catalog.entrypoints.dependencies import Deps, DistrictQuery, RegionQuery
from catalog.entrypoints.schemas import ProgrammeOut, ProgrammePage
from catalog.service_layer import search
from qosym_chassis.inputs import MAX_MONEY

router = APIRouter(tags=["programmes"])


@router.get("/v1/programmes", responses={422: {}})
async def search_programmes(
    deps: Deps,
    region_code: RegionQuery = None,
    district_code: DistrictQuery = None,
    direction: Literal["sports", "creativity", "intellectual"] | None = None,
    age: Annotated[int | None, Query(ge=0, le=30)] = None,
    language: Literal["kk", "ru", "en"] | None = None,
    free_seats: bool = False,
    max_price_tiyn: Annotated[int | None, Query(ge=0, le=MAX_MONEY)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float | None, Query(gt=0, le=500)] = None,
    sort: Literal["title", "price", "-price", "free_seats", "distance", "rating"] | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ProgrammePage:
    """Public search of published programmes of verified providers (cached in Redis, invalidated on changes)."""
    filters = search.Filters(
        region_code=region_code,
        district_code=district_code,
        direction=direction,
        age=age,
        language=language,
        free_seats=free_seats,
        max_price_tiyn=max_price_tiyn,
        lat=lat,
        lon=lon,
        radius_km=radius_km,
    )
    return await search.find(deps, filters, sort, limit, offset)


@router.get("/v1/programmes/{programme_id}", responses={404: {}})
async def get_programme(programme_id: UUID, deps: Deps) -> ProgrammeOut:
    return await search.programme(deps, programme_id)
