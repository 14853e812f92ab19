"""Attestations of a provider's staff and facilities."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from catalog.entrypoints.dependencies import Deps, Manager, caller_of
from catalog.entrypoints.schemas import AttestationIn, AttestationOut, ExpiringOut
from catalog.service_layer import attestations
from qosym_chassis.inputs import Limit, Offset, OffsetPage

router = APIRouter(tags=["staff"])


@router.post(
    "/v1/providers/{provider_id}/attestations", status_code=status.HTTP_201_CREATED, responses={404: {}, 422: {}}
)
async def add_attestation(provider_id: UUID, body: AttestationIn, who: Manager, deps: Deps) -> AttestationOut:
    """Record a certificate (criminal record / qualification for staff, sanitary / fire for facilities).

    Then the suspension sweep runs at once, so a renewed certificate brings its programmes back immediately.
    """
    return await attestations.add_attestation(deps, caller_of(who), provider_id, body.model_dump())


@router.get("/v1/providers/{provider_id}/attestations/expiring", responses={404: {}, 422: {}})
async def expiring_attestations(
    provider_id: UUID,
    who: Manager,
    deps: Deps,
    within_days: Annotated[int | None, Query(ge=0, le=366)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> OffsetPage[ExpiringOut]:
    """Attestations expiring within ``within_days`` (default QOSYM_ATTESTATION_WARNING_DAYS, 30) or expired."""
    return await attestations.expiring(deps, caller_of(who), provider_id, within_days, limit, offset)
