"""Routes of allocation.service_layer.children: the child projection as staff and guardians read it."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from allocation.entrypoints.dependencies import AnyCaller, Deps
from allocation.service_layer import children
from allocation.service_layer.access import Caller
from allocation.service_layer.views import ChildOut
from qosym_chassis.callers import RecordReader
from qosym_chassis.inputs import OffsetPage

router = APIRouter(tags=["children"])


@router.get("/v1/children")
async def list_children(staff: RecordReader, deps: Deps, region_code: str | None = None) -> OffsetPage[ChildOut]:
    """Children known to allocation (from the registry's events), for staff: an operator only their region's (and
    district's); another region is 403."""
    return await children.list_children(deps, Caller.of(staff), region_code)


@router.get("/v1/children/{child_id}", responses={404: {}})
async def get_child(child_id: UUID, caller: AnyCaller, deps: Deps) -> ChildOut:
    """A child as allocation sees it, with its verified categories: its guardians, and staff serving its region and
    district (404 otherwise)."""
    return await children.get_child(deps, caller, child_id)
