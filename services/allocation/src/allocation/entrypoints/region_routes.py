"""Routes of allocation.service_layer.regions: regions as data."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from allocation.domain.region import RegionConfig
from allocation.entrypoints.dependencies import Deps
from allocation.service_layer import regions
from allocation.service_layer.views import RegionOut
from qosym_chassis.callers import Administrator
from qosym_chassis.inputs import OffsetPage

router = APIRouter(tags=["regions"])


@router.put(
    "/v1/regions/{code}",
    status_code=status.HTTP_200_OK,
    responses={201: {"description": "region added"}, 422: {}},
)
async def put_region(code: str, body: RegionConfig, admin: Administrator, deps: Deps, response: Response) -> RegionOut:
    """Add or update a region from its configuration (the shape of deploy/regions/*.yaml)."""
    applied = await regions.apply_region(deps, code, body, actor=admin.subject)
    if applied.created:
        response.status_code = status.HTTP_201_CREATED
    return applied.region


@router.get("/v1/regions")
async def list_regions(deps: Deps) -> OffsetPage[RegionOut]:
    """Every region running the programme (public)."""
    return await regions.list_regions(deps)


@router.get("/v1/regions/{code}", responses={404: {}})
async def get_region(code: str, deps: Deps) -> RegionOut:
    """One region's configuration (public)."""
    return await regions.get_region(deps, code)
