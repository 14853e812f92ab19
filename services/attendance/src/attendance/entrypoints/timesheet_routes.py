"""Timesheets: marking and submitting (providers), late submission (operators), reading and the payable months
(reconciliation) (service_layer/timesheets.py)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter

from attendance.entrypoints.dependencies import (
    Deps,
    OperatorOrOversight,
    PeriodPath,
    PeriodQuery,
    RegionQuery,
    caller_of,
)
from attendance.entrypoints.schemas import LatePermitIn, MarksIn, SubmitIn
from attendance.service_layer import timesheets
from attendance.service_layer.timesheets import MarkIn
from attendance.service_layer.views import (
    LatePermitOut,
    PayableOut,
    SheetOut,
    SubmitOut,
    TimesheetDetailOut,
    TimesheetOut,
)
from qosym_chassis.auth import CurrentPrincipal
from qosym_chassis.callers import Official, ProviderStaff
from qosym_chassis.inputs import OffsetPage

router = APIRouter()
TimesheetStatus = Literal["draft", "submitted", "confirmed", "disputed", "resolved", "lapsed"]


# --- providers ------------------------------------------------------------------------------------------


@router.get("/v1/programmes/{programme_id}/timesheets/{period}", tags=["marking"], responses={404: {}, 409: {}})
async def get_sheet(programme_id: UUID, period: PeriodPath, who: CurrentPrincipal, deps: Deps) -> SheetOut:
    """A group's month: its scheduled sessions, closure days, every child enrolled that month and their marks."""
    return await timesheets.sheet(deps, caller_of(who), programme_id, period)


@router.put(
    "/v1/programmes/{programme_id}/timesheets/{period}/marks",
    tags=["marking"],
    responses={404: {}, 409: {}, 422: {}},
)
async def put_marks(programme_id: UUID, period: PeriodPath, body: MarksIn, who: ProviderStaff, deps: Deps) -> SheetOut:
    """Mark a whole group at once (``all_scheduled``) and/or single sessions; past sessions of a draft month only."""
    marks = [MarkIn(m.enrolment_id, m.date, m.starts_at, m.status, m.reason) for m in body.marks]
    return await timesheets.mark(deps, caller_of(who), programme_id, period, marks, body.all_scheduled)


@router.post(
    "/v1/programmes/{programme_id}/timesheets/{period}/submit",
    tags=["marking"],
    responses={404: {}, 409: {}, 422: {}},
)
async def submit_group(
    programme_id: UUID, period: PeriodPath, who: ProviderStaff, deps: Deps, body: SubmitIn | None = None
) -> SubmitOut:
    """Submit the group's finished month: every child's month with all sessions marked (AttendanceSubmitted each)."""
    return await timesheets.submit(
        deps,
        caller_of(who),
        period,
        programme_id=programme_id,
        enrolment_ids=body.enrolment_ids if body is not None else None,
    )


@router.post(
    "/v1/providers/{provider_id}/timesheets/{period}/submit",
    tags=["marking"],
    responses={404: {}, 409: {}, 422: {}},
)
async def submit_provider(provider_id: UUID, period: PeriodPath, who: ProviderStaff, deps: Deps) -> SubmitOut:
    """Submit the finished month of every group of the provider in one go."""
    return await timesheets.submit(deps, caller_of(who), period, provider_id=provider_id)


@router.post(
    "/v1/programmes/{programme_id}/timesheets/{period}/late-submission",
    tags=["marking"],
    responses={404: {}, 422: {}},
)
async def allow_late_submission(
    programme_id: UUID, period: PeriodPath, body: LatePermitIn, who: Official, deps: Deps
) -> LatePermitOut:
    """An operator of the region lets the provider submit this month after its deadline (recorded with who)."""
    return await timesheets.permit_late(deps, caller_of(who), programme_id, period, body.reason, body.days)


# --- reading, reconciliation ----------------------------------------------------------------------------


@router.get("/v1/timesheets/payable", tags=["reconciliation"], responses={403: {}})
async def payable(
    who: OperatorOrOversight, deps: Deps, region_code: RegionQuery = None, period: PeriodQuery = None
) -> OffsetPage[PayableOut]:
    """Every month whose AttendanceConfirmed or DisputeResolved was published, in timesheet id order."""
    return await timesheets.payable(deps, caller_of(who), region_code, period)


@router.get("/v1/timesheets", tags=["timesheets"])
async def list_timesheets(
    who: CurrentPrincipal,
    deps: Deps,
    period: PeriodQuery = None,
    status: TimesheetStatus | None = None,
    child_id: UUID | None = None,
    programme_id: UUID | None = None,
) -> OffsetPage[TimesheetOut]:
    """The months the caller may see: a guardian's children, a provider's own, an operator's region, or all."""
    return await timesheets.list_timesheets(
        deps, caller_of(who), period=period, status=status, child_id=child_id, programme_id=programme_id
    )


@router.get("/v1/timesheets/{timesheet_id}", tags=["timesheets"], responses={404: {}})
async def get_timesheet(timesheet_id: UUID, who: CurrentPrincipal, deps: Deps) -> TimesheetDetailOut:
    """One month with its sessions, its dispute and every decision taken on it (guardians, provider, staff)."""
    return await timesheets.detail(deps, caller_of(who), timesheet_id)
