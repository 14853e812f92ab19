"""Complaints about programmes: filed by guardians, resolved by the region's officials."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, status

from catalog.entrypoints.dependencies import (
    ComplaintReader,
    Deps,
    DistrictQuery,
    Official,
    Parent,
    RegionQuery,
    caller_of,
)
from catalog.entrypoints.schemas import ComplaintIn, ComplaintOut, ComplaintPage, ComplaintResolutionIn
from catalog.service_layer import complaints

router = APIRouter(tags=["complaints"])


@router.post("/v1/complaints", status_code=status.HTTP_201_CREATED, responses={404: {}, 422: {}})
async def file_complaint(body: ComplaintIn, who: Parent, deps: Deps) -> ComplaintOut:
    """A guardian complains about a programme their child attends or attended (operators of the region resolve it)."""
    return await complaints.file(deps, caller_of(who), body.child_id, body.programme_id, body.category, body.text)


@router.get("/v1/complaints", responses={422: {}})
async def list_complaints(
    who: ComplaintReader,
    deps: Deps,
    status_: Annotated[Literal["open", "resolved"] | None, Query(alias="status")] = None,
    programme_id: UUID | None = None,
    region_code: RegionQuery = None,
    district_code: DistrictQuery = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ComplaintPage:
    """A parent's own complaints; an operator's region (and district) of scope; an administrator's any. Newest first."""
    filters = {
        "status": status_,
        "programme_id": programme_id,
        "region_code": region_code,
        "district_code": district_code,
    }
    return await complaints.listing(deps, caller_of(who), filters, limit, offset)


@router.get("/v1/complaints/{complaint_id}", responses={404: {}})
async def get_complaint(complaint_id: UUID, who: ComplaintReader, deps: Deps) -> ComplaintOut:
    return await complaints.get(deps, caller_of(who), complaint_id)


@router.post("/v1/complaints/{complaint_id}/resolve", responses={404: {}, 409: {}, 422: {}})
async def resolve_complaint(complaint_id: UUID, body: ComplaintResolutionIn, who: Official, deps: Deps) -> ComplaintOut:
    """An operator of the complaint's region records the outcome (once); the parent sees it."""
    return await complaints.resolve(deps, caller_of(who), complaint_id, body.outcome, body.resolution)
