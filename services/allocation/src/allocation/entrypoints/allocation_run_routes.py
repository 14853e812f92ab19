"""Routes of allocation.service_layer.allocation_run: rank and award, the published list, what-if."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from allocation.entrypoints.dependencies import Deps
from allocation.entrypoints.schemas import SimulationIn
from allocation.service_layer import allocation_run
from allocation.service_layer.views import AllocationSummary, PublishedList, Simulation
from qosym_chassis.callers import Administrator

router = APIRouter(tags=["rounds"])


@router.post("/v1/rounds/{round_id}/allocate", responses={404: {}, 409: {}})
async def allocate_round(round_id: UUID, _: Administrator, deps: Deps) -> AllocationSummary:
    """Rank and award once; calling again returns the same result and changes nothing."""
    return await allocation_run.allocate_round(deps, round_id)


@router.get("/v1/rounds/{round_id}/published-list", responses={404: {}, 409: {}})
async def published_list(round_id: UUID, deps: Deps) -> PublishedList:
    """The ranked list without personal data, and the seed: anyone can re-run the lottery (qosym lottery verify)."""
    return await allocation_run.published_list(deps, round_id)


@router.post("/v1/rounds/{round_id}/simulate", responses={404: {}, 409: {}, 422: {}})
async def simulate(round_id: UUID, body: SimulationIn, _: Administrator, deps: Deps) -> Simulation:
    """What-if: rank and award with changed weights and/or quotas without storing anything."""
    return await allocation_run.simulate(deps, round_id, body.weights, body.quotas)
