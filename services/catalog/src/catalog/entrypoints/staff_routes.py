"""A provider's staff and facilities."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from catalog.entrypoints.dependencies import Deps, Manager, caller_of
from catalog.entrypoints.schemas import FacilityIn, FacilityOut, StaffIn, StaffOut
from catalog.service_layer import staff
from qosym_chassis.inputs import Limit, Offset, OffsetPage

router = APIRouter(tags=["staff"])


@router.post(
    "/v1/providers/{provider_id}/staff", status_code=status.HTTP_201_CREATED, responses={404: {}, 409: {}, 422: {}}
)
async def add_staff(provider_id: UUID, body: StaffIn, who: Manager, deps: Deps) -> StaffOut:
    """Add a staff member (IIN validated, stored encrypted with a blind index, returned masked)."""
    return await staff.add_staff(deps, caller_of(who), provider_id, body.model_dump())


@router.post("/v1/providers/{provider_id}/facilities", status_code=status.HTTP_201_CREATED, responses={404: {}})
async def add_facility(provider_id: UUID, body: FacilityIn, who: Manager, deps: Deps) -> FacilityOut:
    return await staff.add_facility(deps, caller_of(who), provider_id, body.model_dump())


@router.get("/v1/providers/{provider_id}/staff", responses={404: {}, 422: {}})
async def list_staff(
    provider_id: UUID, who: Manager, deps: Deps, limit: Limit = 50, offset: Offset = 0
) -> OffsetPage[StaffOut]:
    """The provider's staff by name (IINs masked): what a frontend offers for attestations and coaches."""
    return await staff.staff_list(deps, caller_of(who), provider_id, limit, offset)


@router.get("/v1/providers/{provider_id}/facilities", responses={404: {}, 422: {}})
async def list_facilities(
    provider_id: UUID, who: Manager, deps: Deps, limit: Limit = 50, offset: Offset = 0
) -> OffsetPage[FacilityOut]:
    """The provider's facilities by name."""
    return await staff.facility_list(deps, caller_of(who), provider_id, limit, offset)
