"""Use cases of the officials' figures: one region's facts, the caller's scope checked, one figure computed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel

from insights.adapters import insights_queries
from insights.domain import figures as f
from insights.domain.facts import Facts
from insights.service_layer.access import check_region
from insights.service_layer.dependencies import Dependencies
from qosym_chassis.auth import Principal
from qosym_chassis.errors import FieldError, NotFound

T = TypeVar("T")


class Figure(BaseModel, Generic[T]):
    """One figure of one region, with the time of the last event applied to the region's figures."""

    region_code: str
    freshness: datetime | None  # the time of the last event applied to this region's figures
    filters: dict[str, str]
    data: T


async def facts_of(deps: Dependencies, region_code: str) -> Facts:
    async with deps.sessions() as session:
        facts = await insights_queries.load_facts(session, region_code)
    if facts.region is None and not facts.applications:
        raise NotFound("no such region")
    return facts


def _filters(round_id: UUID | None, month: str | None, **more: str | None) -> dict[str, str]:
    values = {"round_id": str(round_id) if round_id else None, "month": month, **more}
    return {k: v for k, v in values.items() if v is not None}


async def _figure(
    deps: Dependencies,
    caller: Principal,
    region_code: str,
    filters: dict[str, str],
    compute: Callable[[Facts], T],
) -> Figure[T]:
    check_region(caller, region_code)
    facts = await facts_of(deps, region_code)
    return Figure[T](region_code=region_code, freshness=facts.freshness, filters=filters, data=compute(facts))


async def counts(
    deps: Dependencies, caller: Principal, region_code: str, by: Sequence[str], round_id: UUID | None, month: str | None
) -> Figure[list[f.CountRow]]:
    unknown = [d for d in by if d not in f.DIMENSIONS]
    if unknown:
        raise FieldError("by", f"unknown dimension {unknown[0]!r}; choose from {', '.join(f.DIMENSIONS)}")
    where = f.Filter(round_id, month)
    dims = list(dict.fromkeys(by))
    return await _figure(
        deps, caller, region_code, _filters(round_id, month, by=",".join(dims)), lambda x: f.counts(x, dims, where)
    )


async def demand(
    deps: Dependencies, caller: Principal, region_code: str, round_id: UUID | None, month: str | None
) -> Figure[list[f.DemandRow]]:
    where = f.Filter(round_id, month)
    return await _figure(deps, caller, region_code, _filters(round_id, month), lambda x: f.demand(x, where))


async def activation(
    deps: Dependencies, caller: Principal, region_code: str, round_id: UUID | None, month: str | None
) -> Figure[list[f.ActivationRow]]:
    where = f.Filter(round_id, month)
    return await _figure(deps, caller, region_code, _filters(round_id, month), lambda x: f.activation(x, where))


async def retention(deps: Dependencies, caller: Principal, region_code: str) -> Figure[list[f.RetentionRow]]:
    return await _figure(deps, caller, region_code, {}, f.retention)


async def attendance(
    deps: Dependencies, caller: Principal, region_code: str, period: str | None
) -> Figure[list[f.AttendanceRow]]:
    return await _figure(
        deps, caller, region_code, _filters(None, None, period=period), lambda x: f.attendance(x, period)
    )


async def budget(deps: Dependencies, caller: Principal, region_code: str, year: int | None) -> Figure[f.Budget]:
    def compute(facts: Facts) -> f.Budget:
        when = facts.freshness or deps.clock.now()
        return f.budget(facts, year or when.year)

    return await _figure(deps, caller, region_code, _filters(None, None, year=str(year) if year else None), compute)


async def provider_payments(
    deps: Dependencies, caller: Principal, region_code: str, period: str | None
) -> Figure[list[f.ProviderPayments]]:
    return await _figure(
        deps, caller, region_code, _filters(None, None, period=period), lambda x: f.provider_payments(x, period)
    )


async def time_to_first_lesson(
    deps: Dependencies, caller: Principal, region_code: str, round_id: UUID | None, month: str | None
) -> Figure[list[f.Waiting]]:
    where = f.Filter(round_id, month)
    return await _figure(
        deps, caller, region_code, _filters(round_id, month), lambda x: f.time_to_first_lesson(x, where)
    )


async def equity(
    deps: Dependencies, caller: Principal, region_code: str, round_id: UUID | None, month: str | None
) -> Figure[f.Equity]:
    where = f.Filter(round_id, month)
    return await _figure(deps, caller, region_code, _filters(round_id, month), lambda x: f.equity(x, where))
