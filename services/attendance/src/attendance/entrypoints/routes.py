"""Attendance HTTP routes: periods, region rules and inspections."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Request, status

from attendance.bootstrap import Attendance
from attendance.domain.rules import AttendanceRules
from attendance.entrypoints.schemas import CurrentPeriodOut, InspectionIn, InspectionOut, RulesOut
from attendance.service_layer import handlers, regions
from attendance.service_layer.access import Caller, ConflictError, ForbiddenError, NotFoundError, RuleBroken
from qosym_chassis.auth import CurrentPrincipal, Principal, require_roles
from qosym_chassis.errors import Conflict, FieldError, Forbidden, NotFound

router = APIRouter()
T = TypeVar("T")


def get_attendance(request: Request) -> Attendance:
    attendance: Attendance = request.app.state.attendance
    return attendance


AttendanceDep = Annotated[Attendance, Depends(get_attendance)]
RegionCode = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{1,63}$", examples=["astana"])]
Administrator = Annotated[Principal, Depends(require_roles("administrator"))]
Decider = Annotated[Principal, Depends(require_roles("operator", "administrator"))]
Overseer = Annotated[Principal, Depends(require_roles("operator", "administrator", "auditor", "ops"))]


def caller_of(principal: Principal) -> Caller:
    return Caller(subject=principal.subject, role=principal.role, scope=dict(principal.scope))


async def run(action: Awaitable[T], not_found: str = "not found") -> T:
    """Map use-case failures to problems: a rule → 422 naming the field, conflicts → 409, unseen → 404."""
    try:
        return await action
    except RuleBroken as exc:
        raise FieldError(exc.field, str(exc), code=exc.code) from exc
    except NotFoundError as exc:
        raise NotFound(str(exc) or not_found) from exc
    except ConflictError as exc:
        raise Conflict(str(exc)) from exc
    except ForbiddenError as exc:
        raise Forbidden(str(exc)) from exc


@router.get("/v1/regions/{code}/current-period", tags=["periods"], responses={404: {}})
async def get_current_period(code: RegionCode, _: CurrentPrincipal, attendance: AttendanceDep) -> CurrentPeriodOut:
    """The calendar month now running in the region's time zone, with its bounds in UTC."""
    try:
        clock, period = await handlers.current_period(
            attendance.context.session_factory, code, attendance.context.clock.now()
        )
    except handlers.UnknownRegion as exc:
        raise NotFound("no such region") from exc
    return CurrentPeriodOut(
        region_code=clock.code,
        timezone=clock.timezone,
        period=period.name,
        starts_at=period.starts_at,
        ends_at=period.ends_at,
    )


@router.get("/v1/regions/{code}/attendance-rules", tags=["rules"], responses={404: {}})
async def get_rules(code: RegionCode, _: CurrentPrincipal, attendance: AttendanceDep) -> RulesOut:
    """The rules that decide deadlines and what of a month is payable (the defaults until the region sets its own)."""
    return RulesOut.model_validate(await run(regions.get_rules(attendance.context.session_factory, code)))


@router.put("/v1/regions/{code}/attendance-rules", tags=["rules"], responses={404: {}, 422: {}})
async def put_rules(code: RegionCode, body: AttendanceRules, who: Administrator, attendance: AttendanceDep) -> RulesOut:
    """Set the region's rules (a new revision); months already submitted keep the revision they were judged by."""
    result = await run(
        regions.set_rules(
            attendance.context.session_factory, caller_of(who), code, body, attendance.context.clock.now()
        )
    )
    return RulesOut.model_validate(result)


@router.post(
    "/v1/regions/{code}/inspections",
    tags=["inspections"],
    status_code=status.HTTP_201_CREATED,
    responses={404: {}, 422: {}},
)
async def announce_inspection(
    code: RegionCode, body: InspectionIn, who: Decider, attendance: AttendanceDep
) -> InspectionOut:
    """Record that an inspection was announced (the risk rules compare attendance before and after it)."""
    now = attendance.context.clock.now()
    if body.announced_at is not None and body.announced_at > now:
        raise FieldError("announced_at", "cannot be in the future")
    row = await run(
        regions.announce_inspection(
            attendance.context.session_factory,
            caller_of(who),
            code,
            body.district_code,
            body.provider_id,
            body.announced_at or now,
            body.note,
        ),
        "no such region",
    )
    return InspectionOut.model_validate(row)


@router.get("/v1/regions/{code}/inspections", tags=["inspections"], responses={404: {}})
async def list_inspections(code: RegionCode, who: Overseer, attendance: AttendanceDep) -> list[InspectionOut]:
    rows = await run(regions.inspections(attendance.context.session_factory, caller_of(who), code))
    return [InspectionOut.model_validate(r) for r in rows]
