"""Providers: registration, the operators' review queue and decisions."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, status

from catalog.entrypoints.dependencies import Deps, Manager, Official, RegionQuery, Registrant, caller_of
from catalog.entrypoints.schemas import DecisionIn, ProviderIn, ProviderOut
from catalog.service_layer import providers
from qosym_chassis.inputs import Limit, Offset, OffsetPage

router = APIRouter(tags=["providers"])


@router.post("/v1/providers", status_code=status.HTTP_201_CREATED, responses={409: {}, 422: {}})
async def register_provider(body: ProviderIn, who: Registrant, deps: Deps) -> ProviderOut:
    """Register an organisation (BIN, address, contacts, bank details); it waits for an operator's check."""
    return await providers.register(deps, caller_of(who), body.model_dump())


@router.get("/v1/providers", responses={422: {}})
async def list_providers(
    who: Official,
    deps: Deps,
    status: Literal["pending", "verified", "rejected", "suspended"] | None = None,
    region_code: RegionQuery = None,
    bin: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> OffsetPage[ProviderOut]:
    """For operators: the providers of their region (and district), e.g. the review queue (``status=pending``),
    oldest first."""
    return await providers.listed(deps, caller_of(who), status, region_code, bin, limit, offset)


@router.get("/v1/providers/{provider_id}", responses={404: {}})
async def get_provider(provider_id: UUID, who: Manager, deps: Deps) -> ProviderOut:
    return await providers.get(deps, caller_of(who), provider_id)


@router.post("/v1/providers/{provider_id}/decision", responses={404: {}, 422: {}})
async def decide_provider(provider_id: UUID, body: DecisionIn, who: Official, deps: Deps) -> ProviderOut:
    """Verify or reject a pending provider; suspend a verified one (its programmes stop taking enrolments)."""
    return await providers.decide(
        deps, caller_of(who), provider_id, body.action, body.reason, reason_code=body.reason_code
    )
