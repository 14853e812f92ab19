"""Routes of allocation.service_layer.rounds: a round's lifecycle."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from allocation.domain.rounds import RoundDraft
from allocation.entrypoints.dependencies import Deps
from allocation.entrypoints.schemas import CloseIn
from allocation.service_layer import rounds
from allocation.service_layer.views import RoundOut
from qosym_chassis.callers import Administrator
from qosym_chassis.inputs import OffsetPage

router = APIRouter(tags=["rounds"])


@router.post("/v1/rounds", status_code=status.HTTP_201_CREATED, responses={422: {}})
async def create_round(body: RoundDraft, admin: Administrator, deps: Deps) -> RoundOut:
    """Create a round (draft). The lottery seed's sha256 is published at once; the seed stays secret until close."""
    return await rounds.create_round(deps, body, admin.subject)


@router.get("/v1/rounds")
async def list_rounds(deps: Deps, region_code: str | None = None) -> OffsetPage[RoundOut]:
    """Every round (public), newest first, optionally of one region; the seed only once applications closed."""
    return await rounds.list_rounds(deps, region_code)


@router.get("/v1/rounds/{round_id}", responses={404: {}})
async def get_round(round_id: UUID, deps: Deps) -> RoundOut:
    """A round (public): state, quotas, budget, seed hash, and the seed once closed."""
    return await rounds.get_round(deps, round_id)


@router.post("/v1/rounds/{round_id}/open", responses={404: {}, 409: {}})
async def open_round(round_id: UUID, _: Administrator, deps: Deps) -> RoundOut:
    return await rounds.open_round(deps, round_id)


@router.post("/v1/rounds/{round_id}/close", responses={404: {}, 409: {}, 422: {}})
async def close_round(round_id: UUID, admin: Administrator, deps: Deps, body: CloseIn | None = None) -> RoundOut:
    """Close applications and reveal the seed. Before ``application_closes_at`` only with an early-close ``reason``
    (``demand_met``, ``emergency``, ``schedule_change``, ``configuration_error``): recorded with who closed it, and
    told to applicants; without one it is a 422 naming ``reason``."""
    early = rounds.EarlyClose(body.reason, body.note) if body is not None else None
    return await rounds.close_round(deps, round_id, admin.subject, early)
