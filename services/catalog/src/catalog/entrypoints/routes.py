"""Catalog HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi_pagination.ext.sqlalchemy import apaginate

from catalog.adapters import repository
from catalog.bootstrap import Catalog
from catalog.entrypoints.schemas import ConsultationPointOut
from qosym_chassis.inputs import OffsetPage

router = APIRouter()
CODE_PATTERN = r"^[a-z][a-z0-9_-]{1,63}$"


def get_catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
RegionCode = Annotated[str, Query(pattern=CODE_PATTERN, examples=["astana"])]
DistrictCode = Annotated[str | None, Query(pattern=CODE_PATTERN, examples=["yesil"])]


@router.get("/v1/consultation-points", tags=["consultation-points"], responses={422: {}})
async def list_consultation_points(
    catalog: CatalogDep, region_code: RegionCode, district_code: DistrictCode = None
) -> OffsetPage[ConsultationPointOut]:
    """Consultation points of a region, optionally one district (public)."""
    # unique=False: rows are distinct already, and JSONB values are unhashable for SQLAlchemy's unique()
    async with catalog.context.session_factory() as session:
        page: OffsetPage[ConsultationPointOut] = await apaginate(
            session, repository.points_query(region_code, district_code), unique=False
        )
    return page
