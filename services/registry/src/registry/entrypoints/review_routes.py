"""The review queue of flagged records (declared data that disagrees with the IIN)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from qosym_chassis.callers import Official
from qosym_chassis.inputs import Limit, Offset, OffsetPage
from registry.domain.model import Flagged
from registry.entrypoints.dependencies import Deps
from registry.entrypoints.paging import offset_page
from registry.service_layer import review
from registry.service_layer.access import actor_of, scope_of

review_router = APIRouter(tags=["review"])


@review_router.get("/v1/review/flags")
async def flagged(operator: Official, deps: Deps, offset: Offset = 0, limit: Limit = 50) -> OffsetPage[Flagged]:
    """People and children whose declared data disagrees with their IIN (people only for an administrator: they
    have no region)."""
    return offset_page(await review.flagged(deps, scope_of(operator), offset, limit))


@review_router.post("/v1/review/flags/{entity}/{row_id}/clear", status_code=status.HTTP_204_NO_CONTENT)
async def clear_flags(entity: str, row_id: UUID, operator: Official, deps: Deps) -> None:
    await review.clear_flags(deps, entity, row_id, actor_of(operator), scope_of(operator))
