"""Routes of allocation.service_layer.applications: apply, read, withdraw, and why."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from allocation.entrypoints.dependencies import AnyCaller, Deps
from allocation.entrypoints.schemas import ApplicationIn
from allocation.service_layer import applications
from allocation.service_layer.views import ApplicationOut, Explanation
from qosym_chassis.callers import Parent
from qosym_chassis.inputs import OffsetPage

router = APIRouter(tags=["applications"])


@router.post(
    "/v1/rounds/{round_id}/applications",
    status_code=status.HTTP_201_CREATED,
    responses={404: {}, 409: {}, 422: {}},
)
async def apply(round_id: UUID, body: ApplicationIn, parent: Parent, deps: Deps) -> ApplicationOut:
    """A guardian applies for their child (one application per child per round)."""
    return await applications.apply(deps, round_id, body.child_id, body.direction, parent.subject)


@router.get("/v1/applications")
async def my_applications(parent: Parent, deps: Deps) -> OffsetPage[ApplicationOut]:
    """The caller's children's applications with their current status."""
    return await applications.applications_of(deps, parent.subject)


@router.get("/v1/applications/{application_id}", responses={404: {}})
async def get_application(application_id: UUID, caller: AnyCaller, deps: Deps) -> ApplicationOut:
    return await applications.view_application(deps, caller, application_id)


@router.post("/v1/applications/{application_id}/withdraw", responses={404: {}, 409: {}})
async def withdraw(application_id: UUID, parent: Parent, deps: Deps) -> ApplicationOut:
    return await applications.withdraw(deps, application_id, parent.subject)


@router.get("/v1/applications/{application_id}/explanation", responses={404: {}})
async def explanation(application_id: UUID, caller: AnyCaller, deps: Deps) -> Explanation:
    """Why: score by category and weight, lottery number, the cutoff of its district × direction, the outcome."""
    return await applications.explanation(deps, caller, application_id)
