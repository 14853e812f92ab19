"""A region's current period, its attendance rules and announced inspections (service_layer/regions.py)."""

from __future__ import annotations

from fastapi import APIRouter, status

from attendance.domain.rules import AttendanceRules
from attendance.entrypoints.dependencies import Deps, OperatorOrOversight, RegionPath, caller_of
from attendance.entrypoints.schemas import InspectionIn
from attendance.service_layer import regions
from attendance.service_layer.views import CurrentPeriodOut, InspectionOut, RulesOut
from qosym_chassis.auth import CurrentPrincipal
from qosym_chassis.callers import Administrator, Official
from qosym_chassis.inputs import OffsetPage

router = APIRouter()


@router.get("/v1/regions/{code}/current-period", tags=["periods"], responses={404: {}})
async def get_current_period(code: RegionPath, _: CurrentPrincipal, deps: Deps) -> CurrentPeriodOut:
    """The calendar month now running in the region's time zone, with its bounds in UTC."""
    return await regions.current_period(deps, code)


@router.get("/v1/regions/{code}/attendance-rules", tags=["rules"], responses={404: {}})
async def get_rules(code: RegionPath, _: CurrentPrincipal, deps: Deps) -> RulesOut:
    """The rules that decide deadlines and what of a month is payable (the defaults until the region sets its own)."""
    return await regions.get_rules(deps, code)


@router.put("/v1/regions/{code}/attendance-rules", tags=["rules"], responses={404: {}, 422: {}})
async def put_rules(code: RegionPath, body: AttendanceRules, who: Administrator, deps: Deps) -> RulesOut:
    """Set the region's rules (a new revision); months already submitted keep the revision they were judged by."""
    return await regions.set_rules(deps, caller_of(who), code, body)


@router.post(
    "/v1/regions/{code}/inspections",
    tags=["inspections"],
    status_code=status.HTTP_201_CREATED,
    responses={404: {}, 422: {}},
)
async def announce_inspection(code: RegionPath, body: InspectionIn, who: Official, deps: Deps) -> InspectionOut:
    """Record that an inspection was announced (the risk rules compare attendance before and after it)."""
    return await regions.announce_inspection(
        deps, caller_of(who), code, body.district_code, body.provider_id, body.announced_at, body.note
    )


@router.get("/v1/regions/{code}/inspections", tags=["inspections"], responses={404: {}})
async def list_inspections(code: RegionPath, who: OperatorOrOversight, deps: Deps) -> OffsetPage[InspectionOut]:
    """The region's announced inspections, oldest first (an operator sees their region's)."""
    return await regions.inspections(deps, caller_of(who), code)
