"""How quickly providers answer guardians, by provider, for a region's operators and the administrators."""

from __future__ import annotations

from fastapi import APIRouter

from conversations.entrypoints.dependencies import Deps, ResponseTimeReader
from conversations.service_layer import response_times
from conversations.service_layer.views import ResponseTimesOut
from qosym_contracts.types import RegionCode

router = APIRouter(tags=["response times"])


@router.get("/v1/conversations/regions/{region_code}/response-times", responses={404: {}})
async def provider_response_times(region_code: RegionCode, caller: ResponseTimeReader, deps: Deps) -> ResponseTimesOut:
    """Median and p90 seconds from a guardian's message to the provider's first reply, per provider."""
    return await response_times.by_provider(deps, caller, region_code)
