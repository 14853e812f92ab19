"""Attendance HTTP routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from attendance.bootstrap import Attendance
from attendance.entrypoints.schemas import CurrentPeriodOut
from attendance.service_layer import handlers
from qosym_chassis.auth import CurrentPrincipal
from qosym_chassis.errors import NotFound

router = APIRouter()


def get_attendance(request: Request) -> Attendance:
    attendance: Attendance = request.app.state.attendance
    return attendance


AttendanceDep = Annotated[Attendance, Depends(get_attendance)]
RegionCode = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{1,63}$", examples=["astana"])]


@router.get("/v1/regions/{code}/current-period", tags=["periods"], responses={404: {}})
async def get_current_period(code: RegionCode, _: CurrentPrincipal, attendance: AttendanceDep) -> CurrentPeriodOut:
    """The calendar month now running in the region's time zone, with its bounds in UTC."""
    try:
        clock, period = await handlers.current_period(attendance.context.session_factory, code, datetime.now(UTC))
    except handlers.UnknownRegion as exc:
        raise NotFound("no such region") from exc
    return CurrentPeriodOut(
        region_code=clock.code,
        timezone=clock.timezone,
        period=period.name,
        starts_at=period.starts_at,
        ends_at=period.ends_at,
    )
