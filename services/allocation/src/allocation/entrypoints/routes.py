"""Allocation HTTP routes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi_pagination.ext.sqlalchemy import apaginate
from fastapi_pagination.limit_offset import LimitOffsetPage

from allocation.adapters import repository, rounds_repo
from allocation.bootstrap import Allocation
from allocation.domain.region import RegionConfig
from allocation.entrypoints.schemas import CategoryOut, ChildOut, RegionOut
from allocation.service_layer import handlers
from allocation.service_layer.access import READERS, Caller
from qosym_chassis.auth import CurrentPrincipal, Principal, require_roles
from qosym_chassis.errors import FieldError, NotFound

router = APIRouter()


def get_allocation(request: Request) -> Allocation:
    allocation: Allocation = request.app.state.allocation
    return allocation


AllocationDep = Annotated[Allocation, Depends(get_allocation)]
Administrator = Annotated[Principal, Depends(require_roles("administrator"))]
Staff = Annotated[Principal, Depends(require_roles(*READERS))]


@router.put(
    "/v1/regions/{code}",
    tags=["regions"],
    status_code=status.HTTP_200_OK,
    responses={201: {"description": "region added"}, 422: {}},
)
async def put_region(
    code: str, body: RegionConfig, admin: Administrator, allocation: AllocationDep, response: Response
) -> RegionOut:
    """Add or update a region from its configuration (the shape of deploy/regions/*.yaml)."""
    if body.code != code:
        raise FieldError("code", "must equal the region code in the path")
    applied = await handlers.apply_region(allocation.context.session_factory, body, actor=admin.subject)
    if applied.created:
        response.status_code = status.HTTP_201_CREATED
    return RegionOut(revision=applied.revision, config=body)


@router.get("/v1/regions", tags=["regions"])
async def list_regions(allocation: AllocationDep) -> list[RegionOut]:
    """Every region running the programme (public)."""
    async with allocation.context.session_factory() as session:
        rows = (await session.execute(repository.regions_query())).mappings().all()
    return [RegionOut(revision=r["revision"], config=RegionConfig.model_validate(r["config"])) for r in rows]


@router.get("/v1/regions/{code}", tags=["regions"], responses={404: {}})
async def get_region(code: str, allocation: AllocationDep) -> RegionOut:
    """One region's configuration (public)."""
    async with allocation.context.session_factory() as session:
        stored = await repository.get_region(session, code)
    if stored is None:
        raise NotFound("no such region")
    return RegionOut(revision=stored.revision, config=stored.config)


@router.get("/v1/children", tags=["children"])
async def list_children(
    staff: Staff, allocation: AllocationDep, region_code: str | None = None
) -> LimitOffsetPage[ChildOut]:
    """Children known to allocation (from the registry's events), for staff: an operator only their region's (and
    district's); another region is 403."""
    region, district = Caller.of(staff).children_scope(region_code)
    async with allocation.context.session_factory() as session:
        page: LimitOffsetPage[ChildOut] = await apaginate(session, repository.children_query(region, district))
    return page


@router.get("/v1/children/{child_id}", tags=["children"], responses={404: {}})
async def get_child(child_id: UUID, principal: CurrentPrincipal, allocation: AllocationDep) -> ChildOut:
    """A child as allocation sees it, with its verified categories: its guardians, and staff serving its region and
    district (404 otherwise)."""
    caller = Caller.of(principal)
    async with allocation.context.session_factory() as session:
        view = await repository.get_child(session, child_id)
        allowed = view is not None and (
            (caller.reader and caller.serves(view.region_code, view.district_code))
            or await rounds_repo.is_guardian(session, child_id, principal.subject)
        )
        categories = await rounds_repo.categories_of(session, child_id) if allowed else []
    if view is None or not allowed:
        raise NotFound("no such child")
    return ChildOut(
        child_id=view.child_id,
        birth_date=view.birth_date,
        sex=view.sex,
        region_code=view.region_code,
        district_code=view.district_code,
        registered_at=view.registered_at,
        verified_categories=[
            CategoryOut(code=c.code, valid_from=c.valid_from, valid_until=c.valid_until) for c in categories
        ],
    )
