"""Read-side SQL of timesheets and disputes: the listings callers page through, reconciliation's payable months."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, false, select

from attendance.adapters.orm import dispute, timesheet
from attendance.domain.timesheets import PAYABLE


def timesheets(
    *,
    none: bool = False,
    child_ids: list[UUID] | None = None,
    provider_id: UUID | None = None,
    region_code: str | None = None,
    district_code: str | None = None,
    period: str | None = None,
    status: str | None = None,
    child_id: UUID | None = None,
    programme_id: UUID | None = None,
) -> Select[Any]:
    """Timesheets, latest month first (``none``: an empty listing, for a caller who may read no timesheet)."""
    query = select(timesheet)
    if none:
        return query.where(false())
    if child_ids is not None:
        query = query.where(timesheet.c.child_id.in_(child_ids))
    if provider_id is not None:
        query = query.where(timesheet.c.provider_id == provider_id)
    if region_code is not None:
        query = query.where(timesheet.c.region_code == region_code)
    if district_code is not None:
        query = query.where(timesheet.c.district_code == district_code)
    if period is not None:
        query = query.where(timesheet.c.period == period)
    if status is not None:
        query = query.where(timesheet.c.status == status)
    if child_id is not None:
        query = query.where(timesheet.c.child_id == child_id)
    if programme_id is not None:
        query = query.where(timesheet.c.programme_id == programme_id)
    return query.order_by(timesheet.c.period.desc(), timesheet.c.id)


def payable(region_code: str | None, period: str | None, district_code: str | None = None) -> Select[Any]:
    """Every timesheet whose AttendanceConfirmed or DisputeResolved was published, in timesheet id order."""
    query = select(
        timesheet.c.id.label("timesheet_id"),
        timesheet.c.enrolment_id,
        timesheet.c.provider_id,
        timesheet.c.child_id,
        timesheet.c.region_code,
        timesheet.c.period,
        timesheet.c.planned_sessions,
        timesheet.c.payable_sessions,
        timesheet.c.basis,
    ).where(timesheet.c.status.in_(PAYABLE))
    if region_code is not None:
        query = query.where(timesheet.c.region_code == region_code)
    if period is not None:
        query = query.where(timesheet.c.period == period)
    if district_code is not None:
        query = query.where(timesheet.c.district_code == district_code)
    return query.order_by(timesheet.c.id)


def disputes(*, region_code: str | None, district_code: str | None, status: str | None) -> Select[Any]:
    """Disputes, oldest first."""
    query = select(dispute)
    if region_code is not None:
        query = query.where(dispute.c.region_code == region_code)
    if district_code is not None:
        query = query.where(dispute.c.district_code == district_code)
    if status is not None:
        query = query.where(dispute.c.status == status)
    return query.order_by(dispute.c.opened_at, dispute.c.id)
