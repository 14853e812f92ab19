"""Attendance's timesheets as catalog needs them: a child's first attended session (for the expiry sweep) and
each enrolment's attended months and disputes (for the programme's quality signals).

Every handler is an upsert keyed by a business key (enrolment x period, dispute id), so a redelivery under a new
event id changes nothing, and an older submission of the same month never overwrites a newer one.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters import attendance_repository, region_repository, review_repository
from catalog.domain.attendance import first_attended, zone
from catalog.service_layer.dependencies import Dependencies
from qosym_contracts.attendance import (
    AttendanceConfirmedV1,
    AttendanceDisputedV1,
    AttendanceSubmittedV1,
    DisputeResolvedV1,
)


async def on_attendance_submitted(deps: Dependencies, session: AsyncSession, event: AttendanceSubmittedV1) -> None:
    await attendance_repository.put_month(
        session,
        event.enrolment_id,
        event.period,
        {
            "timesheet_id": event.timesheet_id,
            "programme_id": event.programme_id,
            "provider_id": event.provider_id,
            "planned_sessions": event.planned_sessions,
            "attended_sessions": event.attended_sessions,
            "submitted_at": event.occurred_at,
        },
    )
    tz = zone(await region_repository.timezone_of(session, event.region_code))
    first = first_attended(((s.date, s.starts_at, s.status) for s in event.sessions), tz)
    if first is not None:
        await attendance_repository.note_first_attended(session, event.enrolment_id, first)


def _dispute_keys(event: AttendanceDisputedV1 | DisputeResolvedV1) -> dict[str, object]:
    return {
        "dispute_id": event.dispute_id,
        "timesheet_id": event.timesheet_id,
        "enrolment_id": event.enrolment_id,
        "programme_id": event.programme_id,
        "period": event.period,
    }


async def on_attendance_disputed(deps: Dependencies, session: AsyncSession, event: AttendanceDisputedV1) -> None:
    values = {"disputed_sessions": event.disputed_sessions, "opened_at": event.occurred_at}
    await attendance_repository.put_dispute(session, _dispute_keys(event), values)


async def on_dispute_resolved(deps: Dependencies, session: AsyncSession, event: DisputeResolvedV1) -> None:
    values = {"outcome": event.outcome, "resolved_at": event.occurred_at}
    await attendance_repository.put_dispute(session, _dispute_keys(event), values)
    # a resolved month is confirmed: what a guardian's review needs (catalog.service_layer.reviews)
    await review_repository.put_confirmed_month(
        session, event.enrolment_id, event.period, event.attended_sessions, event.occurred_at
    )


async def on_attendance_confirmed(deps: Dependencies, session: AsyncSession, event: AttendanceConfirmedV1) -> None:
    """The month is confirmed (by the guardian or deemed): a guardian may now review the enrolment."""
    await review_repository.put_confirmed_month(
        session, event.enrolment_id, event.period, event.attended_sessions, event.occurred_at
    )
