"""Children: a guardian registers, lists, reads and moves their own children."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from qosym_chassis.callers import Parent
from qosym_chassis.inputs import Limit, Offset, OffsetPage
from registry.domain.model import Child
from registry.entrypoints.dependencies import Deps
from registry.entrypoints.paging import offset_page
from registry.entrypoints.schemas import ChildOut, MoveChildIn, RegisterChildIn
from registry.service_layer import children
from registry.service_layer.access import guardian_id

children_router = APIRouter(tags=["children"])


def child_out(child: Child) -> ChildOut:
    return ChildOut(
        id=child.id,
        iin_masked="********" + child.iin_last4,
        birth_date=child.birth_date,
        sex="F" if child.sex == "F" else "M",
        region_code=child.region_code,
        district_code=child.district_code,
        flags=list(child.flags),
        name=child.name,
    )


@children_router.post(
    "/v1/children",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "already registered by you: the same child"}, 403: {}, 409: {}, 422: {}},
)
async def register_child(body: RegisterChildIn, parent: Parent, deps: Deps, response: Response) -> ChildOut:
    """Register a child of the calling guardian, a registered adult person (idempotent for the same guardian and IIN)."""
    command = children.RegisterChild(
        guardian_id=guardian_id(parent),
        iin=body.iin,
        region_code=body.region_code,
        district_code=body.district_code,
        declared_birth_date=body.declared_birth_date,
        declared_sex=body.declared_sex,
        name=body.name,
    )
    result = await children.register_child(deps, command)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return child_out(result.child)


@children_router.get("/v1/children")
async def list_children(parent: Parent, deps: Deps, offset: Offset = 0, limit: Limit = 50) -> OffsetPage[ChildOut]:
    """The children the caller is a guardian of, oldest registration first."""
    return offset_page((await children.list_own_children(deps, guardian_id(parent), offset, limit)).map(child_out))


@children_router.get("/v1/children/{child_id}", responses={404: {}})
async def get_child(child_id: UUID, parent: Parent, deps: Deps) -> ChildOut:
    """One of the caller's children (404 for anyone else's, the same as for none)."""
    return child_out(await children.get_own_child(deps, child_id, guardian_id(parent)))


@children_router.patch("/v1/children/{child_id}", responses={404: {}, 422: {}})
async def move_child(child_id: UUID, body: MoveChildIn, parent: Parent, deps: Deps) -> ChildOut:
    """The family moved: change the child's region and/or district (publishes ChildDetailsChanged); and/or change
    the child's display name (published nowhere; ``"name": null`` removes it)."""
    command = children.MoveChild(
        child_id=child_id,
        guardian_id=guardian_id(parent),
        region_code=body.region_code,
        district_code=body.district_code,
        name=body.name,
        clear_name="name" in body.model_fields_set and body.name is None,
    )
    return child_out(await children.move_child(deps, command))
