"""Timesheets: marking and submitting (providers), confirming and disputing (guardians), resolving (operators),
the payable months (reconciliation) and risk flags."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from fastapi_pagination.ext.sqlalchemy import apaginate
from fastapi_pagination.limit_offset import LimitOffsetPage

from attendance.entrypoints.routes import AttendanceDep, Overseer, caller_of, run
from attendance.entrypoints.schemas import (
    ConfirmIn,
    ConfirmOut,
    DisputeIn,
    DisputeOpenedOut,
    DisputeOut,
    LatePermitIn,
    LatePermitOut,
    MarksIn,
    PayableOut,
    ResolvedOut,
    ResolveIn,
    ReviewIn,
    RiskFlagOut,
    ScanOut,
    SheetOut,
    SubmitIn,
    SubmitOut,
    TimesheetDetailOut,
    TimesheetOut,
)
from attendance.service_layer import confirmations, risks, timesheets
from attendance.service_layer.access import ForbiddenError
from attendance.service_layer.confirmations import DisputedIn, RulingIn, SessionRef
from attendance.service_layer.timesheets import MarkIn
from qosym_chassis.auth import CurrentPrincipal, Principal, require_roles
from qosym_chassis.errors import Forbidden
from qosym_contracts.attendance import RiskRule

router = APIRouter()
PeriodPath = Annotated[str, Path(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]
RegionQuery = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_-]{1,63}$", examples=["astana"])]
PeriodQuery = Annotated[str | None, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]
ProviderStaff = Annotated[Principal, Depends(require_roles("provider_staff"))]
Parent = Annotated[Principal, Depends(require_roles("parent"))]
Decider = Annotated[Principal, Depends(require_roles("operator", "administrator"))]
Reconciler = Annotated[Principal, Depends(require_roles("administrator", "auditor", "ops", "operator"))]
Scanner = Annotated[Principal, Depends(require_roles("administrator", "ops"))]
TimesheetStatus = Literal["draft", "submitted", "confirmed", "disputed", "resolved", "lapsed"]


# --- providers ------------------------------------------------------------------------------------------


@router.get("/v1/programmes/{programme_id}/timesheets/{period}", tags=["marking"], responses={404: {}, 409: {}})
async def get_sheet(
    programme_id: UUID, period: PeriodPath, who: CurrentPrincipal, attendance: AttendanceDep
) -> SheetOut:
    """A group's month: its scheduled sessions, closure days, every child enrolled that month and their marks."""
    result = await run(
        timesheets.sheet(attendance.context.session_factory, caller_of(who), programme_id, period), "no such programme"
    )
    return SheetOut.model_validate(result)


@router.put(
    "/v1/programmes/{programme_id}/timesheets/{period}/marks",
    tags=["marking"],
    responses={404: {}, 409: {}, 422: {}},
)
async def put_marks(
    programme_id: UUID, period: PeriodPath, body: MarksIn, who: ProviderStaff, attendance: AttendanceDep
) -> SheetOut:
    """Mark a whole group at once (``all_scheduled``) and/or single sessions; past sessions of a draft month only."""
    marks = [MarkIn(m.enrolment_id, m.date, m.starts_at, m.status, m.reason) for m in body.marks]
    result = await run(
        timesheets.mark(
            attendance.context.session_factory,
            caller_of(who),
            programme_id,
            period,
            marks,
            body.all_scheduled,
            attendance.context.clock.now(),
        ),
        "no such programme",
    )
    return SheetOut.model_validate(result)


@router.post(
    "/v1/programmes/{programme_id}/timesheets/{period}/submit",
    tags=["marking"],
    responses={404: {}, 409: {}, 422: {}},
)
async def submit_group(
    programme_id: UUID, period: PeriodPath, who: ProviderStaff, attendance: AttendanceDep, body: SubmitIn | None = None
) -> SubmitOut:
    """Submit the group's finished month: every child's month with all sessions marked (AttendanceSubmitted each)."""
    result = await run(
        timesheets.submit(
            attendance.context.session_factory,
            caller_of(who),
            period,
            attendance.context.clock.now(),
            programme_id=programme_id,
            enrolment_ids=body.enrolment_ids if body is not None else None,
        ),
        "no such programme",
    )
    return SubmitOut.model_validate(result)


@router.post(
    "/v1/providers/{provider_id}/timesheets/{period}/submit",
    tags=["marking"],
    responses={404: {}, 409: {}, 422: {}},
)
async def submit_provider(
    provider_id: UUID, period: PeriodPath, who: ProviderStaff, attendance: AttendanceDep
) -> SubmitOut:
    """Submit the finished month of every group of the provider in one go."""
    result = await run(
        timesheets.submit(
            attendance.context.session_factory,
            caller_of(who),
            period,
            attendance.context.clock.now(),
            provider_id=provider_id,
        ),
        "no such provider",
    )
    return SubmitOut.model_validate(result)


@router.post(
    "/v1/programmes/{programme_id}/timesheets/{period}/late-submission",
    tags=["marking"],
    responses={404: {}, 422: {}},
)
async def allow_late_submission(
    programme_id: UUID, period: PeriodPath, body: LatePermitIn, who: Decider, attendance: AttendanceDep
) -> LatePermitOut:
    """An operator of the region lets the provider submit this month after its deadline (recorded with who)."""
    result = await run(
        timesheets.permit_late(
            attendance.context.session_factory,
            caller_of(who),
            programme_id,
            period,
            body.reason,
            body.days,
            attendance.context.clock.now(),
        ),
        "no such programme",
    )
    return LatePermitOut.model_validate(result)


# --- reading, reconciliation ----------------------------------------------------------------------------


@router.get("/v1/timesheets/payable", tags=["reconciliation"], responses={403: {}})
async def payable(
    who: Reconciler,
    attendance: AttendanceDep,
    region_code: RegionQuery = None,
    period: PeriodQuery = None,
) -> LimitOffsetPage[PayableOut]:
    """Every month whose AttendanceConfirmed or DisputeResolved was published, in timesheet id order."""
    if who.role == "operator":
        try:
            own = caller_of(who).operator_region
        except ForbiddenError as exc:
            raise Forbidden(str(exc)) from exc
        if region_code is not None and region_code != own:
            raise Forbidden("operators read their own region only")
        region_code = own
    async with attendance.context.session_factory() as session:
        page: LimitOffsetPage[PayableOut] = await apaginate(session, timesheets.payable_query(region_code, period))
    return page


@router.get("/v1/timesheets", tags=["timesheets"])
async def list_timesheets(
    who: CurrentPrincipal,
    attendance: AttendanceDep,
    period: PeriodQuery = None,
    status: TimesheetStatus | None = None,
    child_id: UUID | None = None,
    programme_id: UUID | None = None,
) -> LimitOffsetPage[TimesheetOut]:
    """The months the caller may see: a guardian's children, a provider's own, an operator's region, or all."""
    async with attendance.context.session_factory() as session:
        query = await run(
            timesheets.list_query(
                session, caller_of(who), period=period, status=status, child_id=child_id, programme_id=programme_id
            )
        )
        page: LimitOffsetPage[TimesheetOut] = await apaginate(session, query)
    return page


@router.get("/v1/timesheets/{timesheet_id}", tags=["timesheets"], responses={404: {}})
async def get_timesheet(timesheet_id: UUID, who: CurrentPrincipal, attendance: AttendanceDep) -> TimesheetDetailOut:
    """One month with its sessions, its dispute and every decision taken on it (guardians, provider, staff)."""
    result = await run(timesheets.detail(attendance.context.session_factory, caller_of(who), timesheet_id))
    return TimesheetDetailOut.model_validate(result)


# --- guardians ------------------------------------------------------------------------------------------


@router.post("/v1/timesheets/{timesheet_id}/confirm", tags=["confirmation"], responses={404: {}, 409: {}})
async def confirm_one(timesheet_id: UUID, who: Parent, attendance: AttendanceDep) -> ConfirmOut:
    """A guardian confirms the month of their child: it becomes payable (AttendanceConfirmed)."""
    confirmed = await run(
        confirmations.confirm(
            attendance.context.session_factory, caller_of(who), [timesheet_id], attendance.context.clock.now()
        ),
        "no such timesheet",
    )
    return ConfirmOut(confirmed=confirmed)


@router.post("/v1/timesheets/confirm", tags=["confirmation"], responses={404: {}, 409: {}, 422: {}})
async def confirm_many(body: ConfirmIn, who: Parent, attendance: AttendanceDep) -> ConfirmOut:
    """A guardian confirms several months at once (e.g. all their children): all of them, or none."""
    confirmed = await run(
        confirmations.confirm(
            attendance.context.session_factory, caller_of(who), body.timesheet_ids, attendance.context.clock.now()
        ),
        "no such timesheet",
    )
    return ConfirmOut(confirmed=confirmed)


@router.post(
    "/v1/timesheets/{timesheet_id}/dispute",
    tags=["confirmation"],
    status_code=201,
    responses={404: {}, 409: {}, 422: {}},
)
async def dispute(timesheet_id: UUID, body: DisputeIn, who: Parent, attendance: AttendanceDep) -> DisputeOpenedOut:
    """A guardian disputes sessions of the month, with a comment each; an operator of the region decides."""
    items = [DisputedIn(SessionRef(s.date, s.starts_at), s.claim, s.comment) for s in body.sessions]
    result = await run(
        confirmations.dispute_month(
            attendance.context.session_factory,
            caller_of(who),
            timesheet_id,
            body.comment,
            items,
            attendance.context.clock.now(),
        ),
        "no such timesheet",
    )
    return DisputeOpenedOut.model_validate(result)


# --- operators --------------------------------------------------------------------------------------------


@router.get("/v1/disputes", tags=["disputes"])
async def list_disputes(
    who: Decider, attendance: AttendanceDep, status: Literal["open", "resolved"] | None = None
) -> LimitOffsetPage[DisputeOut]:
    """Disputes of the operator's region (all of them for administrators), oldest first."""
    async with attendance.context.session_factory() as session:
        query = await run(confirmations.list_disputes(session, caller_of(who), status))
        page: LimitOffsetPage[DisputeOut] = await apaginate(session, query)
    return page


@router.post("/v1/disputes/{dispute_id}/resolve", tags=["disputes"], responses={404: {}, 409: {}, 422: {}})
async def resolve(dispute_id: UUID, body: ResolveIn, who: Decider, attendance: AttendanceDep) -> ResolvedOut:
    """Rule on every disputed session; the sessions that count are published (DisputeResolved)."""
    rulings = [RulingIn(SessionRef(r.date, r.starts_at), r.ruling) for r in body.rulings]
    result = await run(
        confirmations.resolve(
            attendance.context.session_factory,
            caller_of(who),
            dispute_id,
            rulings,
            body.comment,
            attendance.context.clock.now(),
        ),
        "no such dispute",
    )
    return ResolvedOut.model_validate(result)


# --- risk flags ---------------------------------------------------------------------------------------------


@router.get("/v1/risk-flags", tags=["risk flags"], responses={404: {}})
async def list_flags(
    who: Overseer,
    attendance: AttendanceDep,
    region_code: RegionQuery = None,
    period: PeriodQuery = None,
    rule: RiskRule | None = None,
    status: Literal["open", "dismissed", "confirmed"] | None = None,
) -> LimitOffsetPage[RiskFlagOut]:
    """Risk flags with their evidence, newest first (an operator sees their region's)."""
    query = await run(
        risks.list_query(caller_of(who), region_code=region_code, period=period, rule=rule, status=status),
        "no such region",
    )
    async with attendance.context.session_factory() as session:
        page: LimitOffsetPage[RiskFlagOut] = await apaginate(session, query, unique=False)
    return page


@router.get("/v1/risk-flags/{flag_id}", tags=["risk flags"], responses={404: {}})
async def get_flag(flag_id: UUID, who: Overseer, attendance: AttendanceDep) -> RiskFlagOut:
    return RiskFlagOut.model_validate(
        await run(risks.get(attendance.context.session_factory, caller_of(who), flag_id), "no such risk flag")
    )


@router.post("/v1/risk-flags/{flag_id}/review", tags=["risk flags"], responses={404: {}, 409: {}})
async def review_flag(flag_id: UUID, body: ReviewIn, who: Decider, attendance: AttendanceDep) -> RiskFlagOut:
    """Record what the check found (dismissed or confirmed), with who and why."""
    result = await run(
        risks.review(
            attendance.context.session_factory,
            caller_of(who),
            flag_id,
            body.outcome,
            body.note,
            attendance.context.clock.now(),
        ),
        "no such risk flag",
    )
    return RiskFlagOut.model_validate(result)


@router.post("/v1/risk-flags/scan", tags=["risk flags"], responses={422: {}})
async def scan_now(
    who: Scanner,
    attendance: AttendanceDep,
    region_code: RegionQuery = None,
    period: PeriodQuery = None,
) -> ScanOut:
    """Run the risk rules now (the consumers process also runs them every QOSYM_RISK_SCAN_INTERVAL_S)."""
    raised = await run(
        risks.scan(
            attendance.context.session_factory, attendance.context.clock.now(), period=period, region_code=region_code
        )
    )
    return ScanOut(raised=raised)
