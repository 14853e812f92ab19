"""The consultation points of each region (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from catalog.entrypoints.dependencies import Deps, DistrictQuery
from catalog.entrypoints.schemas import ConsultationPointOut
from catalog.service_layer import regions
from qosym_chassis.inputs import Limit, Offset, OffsetPage
from qosym_contracts.types import REGION_CODE_PATTERN

router = APIRouter(tags=["consultation-points"])


@router.get("/v1/consultation-points", responses={422: {}})
async def list_consultation_points(
    deps: Deps,
    region_code: Annotated[str, Query(pattern=REGION_CODE_PATTERN, examples=["astana"])],
    district_code: DistrictQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> OffsetPage[ConsultationPointOut]:
    """Consultation points of a region, optionally one district (public)."""
    return await regions.consultation_points(deps, region_code, district_code, limit, offset)
