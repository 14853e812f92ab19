from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.domain import messages as m
from notifications.domain.reminders import attendance_reminder, voucher_reminder

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_an_attendance_reminder_comes_days_before_the_deadline() -> None:
    confirm_by = NOW + timedelta(days=10)

    plan = attendance_reminder(confirm_by, 2, NOW)

    assert plan is not None
    assert (plan.kind, plan.fire_at, plan.deadline) == (
        m.ATTENDANCE_CONFIRM_REMINDER,
        confirm_by - timedelta(days=2),
        confirm_by,
    )


def test_no_reminder_when_its_moment_has_passed() -> None:
    assert attendance_reminder(NOW + timedelta(days=1), 2, NOW) is None
    assert voucher_reminder(date(2026, 11, 28), 3, ZoneInfo("Asia/Almaty"), NOW) is None


def test_a_voucher_reminder_fires_in_the_local_morning() -> None:
    zone = ZoneInfo("Asia/Almaty")

    plan = voucher_reminder(date(2026, 12, 10), 3, zone, NOW)

    assert plan is not None
    assert plan.kind == m.VOUCHER_USE_REMINDER
    assert plan.fire_at == datetime(2026, 12, 7, 4, 0, tzinfo=UTC)  # 09:00 in Almaty
    assert plan.deadline == datetime(2026, 12, 10, 19, 0, tzinfo=UTC)  # the end of the use-by day there
