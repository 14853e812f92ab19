"""Operators see how quickly each provider of their region answers guardians (median and p90, in seconds)."""

from __future__ import annotations

from conversations.adapters import response_time_queries
from conversations.domain.response_times import percentile, waits
from conversations.service_layer.dependencies import Dependencies
from conversations.service_layer.views import ProviderResponseTimes, ResponseTimesOut
from qosym_chassis.auth import Principal
from qosym_chassis.callers import OPERATORS
from qosym_chassis.errors import NotFound


async def by_provider(deps: Dependencies, principal: Principal, region_code: str) -> ResponseTimesOut:
    """An operator reads their own region only (another is answered as if it did not exist); administrators all."""
    if principal.role in OPERATORS and principal.scope.get("region") != region_code:
        raise NotFound("no such region")
    async with deps.sessions() as session:
        found = await response_time_queries.provider_thread_messages(session, region_code)
    providers = []
    for provider_id, posted in sorted(found.items(), key=lambda item: str(item[0])):
        w = waits(posted)
        providers.append(
            ProviderResponseTimes(
                provider_id=provider_id,
                answered=len(w.answered_s),
                unanswered=w.unanswered,
                median_s=percentile(w.answered_s, 0.5),
                p90_s=percentile(w.answered_s, 0.9),
            )
        )
    return ResponseTimesOut(region_code=region_code, providers=providers)
