"""The public programme pages: the search (cached in Redis, invalidated on changes) and one programme, each with
its quality signals."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import UUID

from catalog.adapters import quality_queries, search_queries
from catalog.adapters.search_queries import Filters
from catalog.domain.programmes import RuleBroken
from catalog.service_layer import reviews
from catalog.service_layer.dependencies import Dependencies
from catalog.service_layer.models import ProgrammeOut, ProgrammePage
from catalog.service_layer.programmes import programme_out
from qosym_chassis.errors import NotFound

SORTS = ("title", "price", "-price", "free_seats", "distance", "rating")

__all__ = ["SORTS", "Filters", "find", "programme"]


async def find(deps: Dependencies, filters: Filters, sort: str | None, limit: int, offset: int) -> ProgrammePage:
    """Published programmes of verified providers that can run today, one page (nearest first when lat and lon are
    given, else by title)."""
    if (filters.lat is None) != (filters.lon is None):
        raise RuleBroken("lon" if filters.lon is None else "lat", "lat and lon go together")
    if filters.radius_km is not None and filters.lat is None:
        raise RuleBroken("radius_km", "needs lat and lon")
    key: dict[str, Any] = {**asdict(filters), "sort": sort, "limit": limit, "offset": offset}
    version, cached = await deps.cache.get(key)
    if cached is not None:
        return ProgrammePage.model_validate(cached)
    near = filters.lat is not None
    order = sort or ("distance" if near else "title")
    if order == "distance" and not near:
        raise RuleBroken("sort", "sorting by distance needs lat and lon")
    now = deps.clock.now()
    async with deps.sessions() as session:
        rows, total = await search_queries.search(session, filters, order, limit, offset, now.date())
        signals = await quality_queries.of_programmes(
            session, [r["id"] for r in rows], now, deps.settings.timesheet_grace_days
        )
        stars = await reviews.ratings_of(session, [r["id"] for r in rows])
    page = ProgrammePage(
        items=[programme_out({**r, "quality": signals.get(r["id"]), "ratings": stars.get(r["id"])}) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
    await deps.cache.put(version, key, page.model_dump(mode="json"))
    return page


async def programme(deps: Dependencies, programme_id: UUID) -> ProgrammeOut:
    """One published programme of a verified provider, with its quality signals."""
    async with deps.sessions() as session:
        row = await search_queries.published(session, programme_id)
        if row is None:
            raise NotFound("no such programme")
        signals = await quality_queries.of_programmes(
            session, [programme_id], deps.clock.now(), deps.settings.timesheet_grace_days
        )
        stars = await reviews.ratings_of(session, [programme_id])
    return programme_out({**row, "quality": signals.get(programme_id), "ratings": stars.get(programme_id)})
