"""Operations: the events parked until what they need arrives (docs/architecture.md, Delivery)."""

from __future__ import annotations

from payments.adapters import parking_repository
from payments.adapters.parking_repository import ParkedEvent
from payments.service_layer.dependencies import Dependencies
from payments.service_layer.paging import Page


async def list_parked(deps: Dependencies, limit: int, offset: int) -> Page[ParkedEvent]:
    async with deps.sessions() as session:
        total, found = await parking_repository.parked(session, limit, offset)
    return Page(found, total, limit, offset)
