"""Assisted registration: an operator prepares a change at a service point; the parent's code applies it."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from qosym_chassis.callers import Operator
from registry.entrypoints.children_routes import child_out
from registry.entrypoints.dependencies import Deps
from registry.entrypoints.schemas import AssistedChildIn, AssistedConfirmIn, AssistedMoveIn, ChangePreparedOut, ChildOut
from registry.service_layer import assisted
from registry.service_layer.access import actor_of, scope_of
from registry.service_layer.children import MoveChild, RegisterChild

assisted_router = APIRouter(tags=["assisted"])


@assisted_router.post("/v1/assisted/children", status_code=status.HTTP_202_ACCEPTED)
async def assisted_child(body: AssistedChildIn, operator: Operator, deps: Deps) -> ChangePreparedOut:
    """An operator registers a child for a parent; a one-time code goes to the parent's phone."""
    command = RegisterChild(
        guardian_id=UUID(int=0),
        iin=body.iin,
        region_code=body.region_code,
        district_code=body.district_code,
        declared_birth_date=body.declared_birth_date,
        declared_sex=body.declared_sex,
    )
    change_id = await assisted.start_child_registration(
        deps,
        actor_of(operator),
        scope_of(operator),
        body.parent_iin,
        command,
        operator.scope.get("consultation_point"),
    )
    return ChangePreparedOut(change_id=change_id)


@assisted_router.post("/v1/assisted/{change_id}/confirm", responses={404: {}, 409: {}, 422: {}})
async def assisted_confirm(change_id: UUID, body: AssistedConfirmIn, operator: Operator, deps: Deps) -> ChildOut:
    """Apply the prepared change with the code the parent received (the audit trail names both); a wrong, expired
    or used code is 422 `code_invalid` naming `code` (the fifth wrong one closes it)."""
    result = await assisted.confirm(deps, change_id, body.code, actor_of(operator))
    return child_out(result.child)


@assisted_router.post(
    "/v1/assisted/children/{child_id}/move", status_code=status.HTTP_202_ACCEPTED, responses={404: {}, 422: {}}
)
async def assisted_move(child_id: UUID, body: AssistedMoveIn, operator: Operator, deps: Deps) -> ChangePreparedOut:
    """An operator prepares a family's move; a guardian confirms it with the one-time code sent to them."""
    move = MoveChild(
        child_id=child_id, guardian_id=UUID(int=0), region_code=body.region_code, district_code=body.district_code
    )
    change_id = await assisted.start_child_move(
        deps,
        actor_of(operator),
        scope_of(operator),
        body.parent_iin,
        move,
        operator.scope.get("consultation_point"),
    )
    return ChangePreparedOut(change_id=change_id)
