"""Attendance's news: timesheets to confirm (with a reminder before the deadline), disputes, risk flags.

Every handler runs inside the consumer wrapper's transaction (docs/architecture.md, "Delivery").
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters import reminders_repository
from notifications.domain import messages as m
from notifications.domain import notices, reminders
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.fanout import publish_notices
from qosym_contracts.attendance import (
    AttendanceConfirmedV1,
    AttendanceDisputedV1,
    AttendanceSubmittedV1,
)


async def on_attendance_submitted(deps: Dependencies, session: AsyncSession, event: AttendanceSubmittedV1) -> None:
    await publish_notices(deps, session, event)
    plan = reminders.attendance_reminder(event.confirm_by, deps.reminding.attendance_days, deps.clock.now())
    if plan is not None:
        payload = notices.attendance_submitted(event)[0].payload
        await reminders_repository.schedule_reminder(
            session, plan.kind, event.timesheet_id, event.child_id, plan.fire_at, plan.deadline, payload
        )


async def on_timesheet_answered(
    deps: Dependencies, session: AsyncSession, event: AttendanceConfirmedV1 | AttendanceDisputedV1
) -> None:
    """Confirmed or disputed: the reminder to confirm is no longer needed."""
    await reminders_repository.cancel_reminder(session, m.ATTENDANCE_CONFIRM_REMINDER, event.timesheet_id)
    await publish_notices(deps, session, event)
