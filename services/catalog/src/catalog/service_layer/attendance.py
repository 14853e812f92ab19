"""Attendance's timesheets as catalog needs them: a child's first attended session (for the expiry sweep) and
each enrolment's attended months and disputes (for the programme's quality signals).

Every handler is an upsert keyed by a business key (enrolment × period, dispute id), so a redelivery under a new
event id changes nothing, and an older submission of the same month never overwrites a newer one.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import attendance_month, enrolment, region, timesheet_dispute
from catalog.domain.attendance import first_attended, zone
from qosym_contracts.attendance import AttendanceDisputedV1, AttendanceSubmittedV1, DisputeResolvedV1


async def zone_of(session: AsyncSession, region_code: str) -> ZoneInfo:
    found = await session.execute(select(region.c.timezone).where(region.c.code == region_code))
    return zone(found.scalar_one_or_none())


async def on_attendance_submitted(session: AsyncSession, event: AttendanceSubmittedV1) -> None:
    values = {
        "timesheet_id": event.timesheet_id,
        "programme_id": event.programme_id,
        "provider_id": event.provider_id,
        "planned_sessions": event.planned_sessions,
        "attended_sessions": event.attended_sessions,
        "submitted_at": event.occurred_at,
    }
    statement = insert(attendance_month).values(enrolment_id=event.enrolment_id, period=event.period, **values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[attendance_month.c.enrolment_id, attendance_month.c.period],
            set_=values,
            where=attendance_month.c.submitted_at <= statement.excluded.submitted_at,
        )
    )
    tz = await zone_of(session, event.region_code)
    first = first_attended(((s.date, s.starts_at, s.status) for s in event.sessions), tz)
    if first is not None:
        # the earliest attended session ever reported, whatever order the months arrive in
        await session.execute(
            update(enrolment)
            .where(enrolment.c.id == event.enrolment_id)
            .values(first_attended_at=func.least(func.coalesce(enrolment.c.first_attended_at, first), first))
        )


async def on_attendance_disputed(session: AsyncSession, event: AttendanceDisputedV1) -> None:
    values = {"disputed_sessions": event.disputed_sessions, "opened_at": event.occurred_at}
    statement = insert(timesheet_dispute).values(
        dispute_id=event.dispute_id,
        timesheet_id=event.timesheet_id,
        enrolment_id=event.enrolment_id,
        programme_id=event.programme_id,
        period=event.period,
        **values,
    )
    await session.execute(statement.on_conflict_do_update(index_elements=[timesheet_dispute.c.dispute_id], set_=values))


async def on_dispute_resolved(session: AsyncSession, event: DisputeResolvedV1) -> None:
    values = {"outcome": event.outcome, "resolved_at": event.occurred_at}
    statement = insert(timesheet_dispute).values(
        dispute_id=event.dispute_id,
        timesheet_id=event.timesheet_id,
        enrolment_id=event.enrolment_id,
        programme_id=event.programme_id,
        period=event.period,
        **values,
    )
    await session.execute(statement.on_conflict_do_update(index_elements=[timesheet_dispute.c.dispute_id], set_=values))
