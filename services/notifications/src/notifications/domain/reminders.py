"""Reminders scheduled from deadlines, and the events that make them unnecessary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifications.domain.messages import ATTENDANCE_CONFIRM_REMINDER, VOUCHER_USE_REMINDER

REMINDER_KINDS = (ATTENDANCE_CONFIRM_REMINDER, VOUCHER_USE_REMINDER)
MORNING = time(9, 0)


@dataclass(frozen=True)
class ReminderPlan:
    kind: str
    fire_at: datetime
    deadline: datetime


def attendance_reminder(confirm_by: datetime, days_before: int, now: datetime) -> ReminderPlan | None:
    """``days_before`` the guardian's deadline; none when that moment has already passed."""
    fire_at = confirm_by - timedelta(days=days_before)
    if fire_at <= now:
        return None
    return ReminderPlan(ATTENDANCE_CONFIRM_REMINDER, fire_at, confirm_by)


def voucher_reminder(assign_by: date, days_before: int, zone: ZoneInfo, now: datetime) -> ReminderPlan | None:
    """At 09:00 local time, ``days_before`` the voucher's use-by date (the end of that day is the deadline)."""
    deadline = datetime.combine(assign_by + timedelta(days=1), time(0, 0), tzinfo=zone)
    fire_at = datetime.combine(assign_by - timedelta(days=days_before), MORNING, tzinfo=zone)
    if fire_at <= now:
        return None
    return ReminderPlan(VOUCHER_USE_REMINDER, fire_at, deadline)
