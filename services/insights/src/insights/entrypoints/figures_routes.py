"""The officials' figures (the portal's dashboards read them): operators of the region, administrators, auditors."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from insights.domain import figures as f
from insights.entrypoints.dependencies import Deps, FigureReader
from insights.service_layer import figures
from insights.service_layer.figures import Figure
from qosym_contracts.types import Period, RegionCode

router = APIRouter(prefix="/v1/insights/regions/{region_code}", tags=["figures"])

RoundId = Annotated[UUID | None, Query(description="only this round's applications")]
Month = Annotated[Period | None, Query(description="only applications submitted in this month (YYYY-MM)")]
PeriodQuery = Annotated[Period | None, Query(description="only this month (YYYY-MM)")]


@router.get("/counts", summary="Applications, awards, waitlist by chosen dimensions")
async def counts(
    region_code: RegionCode,
    caller: FigureReader,
    deps: Deps,
    by: Annotated[list[str], Query(description=f"dimensions: {', '.join(f.DIMENSIONS)}")] = ["district"],  # noqa: B006
    round_id: RoundId = None,
    month: Month = None,
) -> Figure[list[f.CountRow]]:
    return await figures.counts(deps, caller, region_code, by, round_id, month)


@router.get("/demand", summary="Seats offered against seats requested, by district and direction")
async def demand(
    region_code: RegionCode, caller: FigureReader, deps: Deps, round_id: RoundId = None, month: Month = None
) -> Figure[list[f.DemandRow]]:
    return await figures.demand(deps, caller, region_code, round_id, month)


@router.get("/activation", summary="Vouchers awarded, enrolled, attended")
async def activation(
    region_code: RegionCode, caller: FigureReader, deps: Deps, round_id: RoundId = None, month: Month = None
) -> Figure[list[f.ActivationRow]]:
    return await figures.activation(deps, caller, region_code, round_id, month)


@router.get("/retention", summary="Enrolments still active 1, 3 and 6 months after confirmation, by programme")
async def retention(region_code: RegionCode, caller: FigureReader, deps: Deps) -> Figure[list[f.RetentionRow]]:
    return await figures.retention(deps, caller, region_code)


@router.get("/attendance", summary="Timesheets confirmed and disputed, by month")
async def attendance(
    region_code: RegionCode, caller: FigureReader, deps: Deps, period: PeriodQuery = None
) -> Figure[list[f.AttendanceRow]]:
    return await figures.attendance(deps, caller, region_code, period)


@router.get("/budget", summary="Budget committed, accrued, paid, and the linear burn to the year's end")
async def budget(
    region_code: RegionCode,
    caller: FigureReader,
    deps: Deps,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Figure[f.Budget]:
    return await figures.budget(deps, caller, region_code, year)


@router.get("/providers", summary="Accrued and paid per provider")
async def providers(
    region_code: RegionCode, caller: FigureReader, deps: Deps, period: PeriodQuery = None
) -> Figure[list[f.ProviderPayments]]:
    return await figures.provider_payments(deps, caller, region_code, period)


@router.get("/time-to-first-lesson", summary="Days from the application to the first attended lesson")
async def time_to_first_lesson(
    region_code: RegionCode, caller: FigureReader, deps: Deps, round_id: RoundId = None, month: Month = None
) -> Figure[list[f.Waiting]]:
    return await figures.time_to_first_lesson(deps, caller, region_code, round_id, month)


@router.get("/equity", summary="Each priority category's share of vouchers against its share of applicants")
async def equity(
    region_code: RegionCode, caller: FigureReader, deps: Deps, round_id: RoundId = None, month: Month = None
) -> Figure[f.Equity]:
    return await figures.equity(deps, caller, region_code, round_id, month)
