"""Programmes: publish, change, close."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from catalog.entrypoints.dependencies import Deps, Manager, caller_of
from catalog.entrypoints.schemas import ProgrammeChangeIn, ProgrammeClosed, ProgrammeFields, ProgrammeOut
from catalog.service_layer import programmes
from qosym_chassis.errors import FieldError
from qosym_chassis.inputs import Limit, Offset, OffsetPage

router = APIRouter(tags=["programmes"])


@router.post(
    "/v1/providers/{provider_id}/programmes",
    status_code=status.HTTP_201_CREATED,
    responses={404: {}, 409: {}, 422: {}},
)
async def publish_programme(provider_id: UUID, body: ProgrammeFields, who: Manager, deps: Deps) -> ProgrammeOut:
    """Publish a programme of a verified provider (its own staff, or an operator)."""
    return await programmes.publish(deps, caller_of(who), provider_id, body.model_dump(mode="json"))


@router.get("/v1/providers/{provider_id}/programmes", responses={404: {}, 422: {}})
async def provider_programmes(
    provider_id: UUID, who: Manager, deps: Deps, limit: Limit = 50, offset: Offset = 0
) -> OffsetPage[ProgrammeOut]:
    """The provider's own programmes, whatever their status (published, suspended, closed), newest first."""
    return await programmes.of_provider(deps, caller_of(who), provider_id, limit, offset)


@router.patch("/v1/programmes/{programme_id}", responses={404: {}, 409: {}, 422: {}})
async def change_programme(programme_id: UUID, body: ProgrammeChangeIn, who: Manager, deps: Deps) -> ProgrammeOut:
    changes = body.model_dump(mode="json", exclude_unset=True)
    for key, value in changes.items():
        if value is None:
            raise FieldError(key, "cannot be null")
    return await programmes.change(deps, caller_of(who), programme_id, changes)


@router.post("/v1/programmes/{programme_id}/close", responses={404: {}})
async def close_programme(programme_id: UUID, who: Manager, deps: Deps) -> ProgrammeClosed:
    """Close a programme: no new enrolments, and the active ones end with reason programme_closed."""
    return await programmes.close(deps, caller_of(who), programme_id)
