"""Guardianship: a child's guardians, linking a second one, ending one."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from qosym_chassis.callers import Parent
from qosym_chassis.inputs import Limit, Offset, OffsetPage
from registry.entrypoints.dependencies import Deps
from registry.entrypoints.paging import offset_page
from registry.entrypoints.schemas import GuardianLinkedOut, LinkGuardianIn
from registry.service_layer import access, guardianship

guardianship_router = APIRouter(tags=["guardianship"])


@guardianship_router.get("/v1/children/{child_id}/guardians", responses={404: {}})
async def guardians(
    child_id: UUID, parent: Parent, deps: Deps, offset: Offset = 0, limit: Limit = 50
) -> OffsetPage[UUID]:
    """The child's guardians (their person ids), for one of them."""
    return offset_page(await guardianship.guardians_of(deps, child_id, access.guardian_id(parent), offset, limit))


@guardianship_router.post("/v1/children/{child_id}/guardians", status_code=status.HTTP_201_CREATED, responses={404: {}})
async def link_guardian(child_id: UUID, body: LinkGuardianIn, parent: Parent, deps: Deps) -> GuardianLinkedOut:
    """Link a second guardian, named by their IIN; they must be a registered adult person."""
    access.guardian_id(parent)
    linked = await guardianship.link_guardian(deps, child_id, access.actor_of(parent), body.iin, body.relation)
    return GuardianLinkedOut(guardian_id=linked)


@guardianship_router.delete(
    "/v1/children/{child_id}/guardians/{guardian_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {}, 409: {}},
)
async def unlink_guardian(child_id: UUID, guardian_id: UUID, parent: Parent, deps: Deps) -> None:
    access.guardian_id(parent)
    await guardianship.unlink_guardian(deps, child_id, access.actor_of(parent), guardian_id)
