"""Guardians confirm or dispute a submitted month; operators resolve disputes (service_layer/confirmations.py)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter

from attendance.entrypoints.dependencies import Deps, caller_of
from attendance.entrypoints.schemas import ConfirmIn, DisputeIn, ResolveIn
from attendance.service_layer import confirmations
from attendance.service_layer.confirmations import DisputedIn, RulingIn, SessionRef
from attendance.service_layer.views import ConfirmOut, DisputeOpenedOut, DisputeOut, ResolvedOut
from qosym_chassis.callers import Official, Parent
from qosym_chassis.inputs import OffsetPage

router = APIRouter()


@router.post("/v1/timesheets/{timesheet_id}/confirm", tags=["confirmation"], responses={404: {}, 409: {}})
async def confirm_one(timesheet_id: UUID, who: Parent, deps: Deps) -> ConfirmOut:
    """A guardian confirms the month of their child: it becomes payable (AttendanceConfirmed)."""
    return await confirmations.confirm(deps, caller_of(who), [timesheet_id])


@router.post("/v1/timesheets/confirm", tags=["confirmation"], responses={404: {}, 409: {}, 422: {}})
async def confirm_many(body: ConfirmIn, who: Parent, deps: Deps) -> ConfirmOut:
    """A guardian confirms several months at once (e.g. all their children): all of them, or none."""
    return await confirmations.confirm(deps, caller_of(who), body.timesheet_ids)


@router.post(
    "/v1/timesheets/{timesheet_id}/dispute",
    tags=["confirmation"],
    status_code=201,
    responses={404: {}, 409: {}, 422: {}},
)
async def dispute(timesheet_id: UUID, body: DisputeIn, who: Parent, deps: Deps) -> DisputeOpenedOut:
    """A guardian disputes sessions of the month, with a comment each; an operator of the region decides."""
    items = [DisputedIn(SessionRef(s.date, s.starts_at), s.claim, s.comment) for s in body.sessions]
    return await confirmations.dispute_month(deps, caller_of(who), timesheet_id, body.comment, items)


@router.get("/v1/disputes", tags=["disputes"])
async def list_disputes(
    who: Official, deps: Deps, status: Literal["open", "resolved"] | None = None
) -> OffsetPage[DisputeOut]:
    """Disputes of the operator's region (all of them for administrators), oldest first."""
    return await confirmations.list_disputes(deps, caller_of(who), status)


@router.post("/v1/disputes/{dispute_id}/resolve", tags=["disputes"], responses={404: {}, 409: {}, 422: {}})
async def resolve(dispute_id: UUID, body: ResolveIn, who: Official, deps: Deps) -> ResolvedOut:
    """Rule on every disputed session; the sessions that count are published (DisputeResolved)."""
    rulings = [RulingIn(SessionRef(r.date, r.starts_at), r.ruling) for r in body.rulings]
    return await confirmations.resolve(deps, caller_of(who), dispute_id, rulings, body.comment)
