"""Reminders scheduled from deadlines, fired by the consumers process's periodic job, cancelled by the action."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from qosym_chassis.consumer import EventConsumer
from qosym_contracts.allocation import VoucherExpiredV1
from tests.support.events import child_registered, message

from .support import (
    assigned,
    awarded,
    kinds_for,
    now,
    rows,
    submitted,
    timesheet,
    timesheet_confirmed,
    value,
)

pytestmark = pytest.mark.component
DAY = 24 * 3600


async def fire(c: EventConsumer) -> int:
    [job] = [job for _, job in c.periodic if getattr(job, "__name__", "") == "fire_reminders"]
    return int(await job())


async def test_an_unconfirmed_timesheet_is_remembered_days_before_its_deadline(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    parent, child = uuid4(), uuid4()
    await c.deliver(message(child_registered(parent, child)))
    sheet = timesheet(child, now() + timedelta(days=5))
    await c.deliver(message(sheet))

    assert await fire(c) == 0  # not yet
    [reminder] = await rows(url, "SELECT kind, status, fire_at FROM reminder")
    assert (reminder["kind"], reminder["status"]) == ("attendance_confirm_reminder", "scheduled")
    assert reminder["fire_at"] == sheet.confirm_by - timedelta(days=2)

    three_days_later = await consumer("notifications", url, clock_offset_s=3 * DAY + 60)
    assert await fire(three_days_later) == 1
    assert await fire(three_days_later) == 0  # fired once
    assert await kinds_for(url, f"person:{parent}") == [
        "child_registered",
        "attendance_submitted",
        "attendance_confirm_reminder",
    ]
    assert await value(url, "SELECT status FROM reminder") == "fired"


async def test_confirming_the_timesheet_cancels_its_reminder(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    parent, child = uuid4(), uuid4()
    await c.deliver(message(child_registered(parent, child)))
    sheet = timesheet(child, now() + timedelta(days=5))
    await c.deliver(message(sheet))
    await c.deliver(message(timesheet_confirmed(sheet)))

    later = await consumer("notifications", url, clock_offset_s=4 * DAY)
    assert await fire(later) == 0
    assert await value(url, "SELECT status FROM reminder") == "cancelled"
    assert "attendance_confirm_reminder" not in await kinds_for(url, f"person:{parent}")


async def test_an_action_done_before_its_reminder_was_scheduled_still_cancels_it(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    parent, child = uuid4(), uuid4()
    await c.deliver(message(child_registered(parent, child)))
    sheet = timesheet(child, now() + timedelta(days=5))
    await c.deliver(message(timesheet_confirmed(sheet)))  # consumed first
    await c.deliver(message(sheet))

    later = await consumer("notifications", url, clock_offset_s=4 * DAY)
    assert await fire(later) == 0
    assert await value(url, "SELECT status FROM reminder") == "cancelled"


async def test_an_unused_voucher_is_remembered_before_its_use_by_date_unless_it_is_used(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    parent, child, other = uuid4(), uuid4(), uuid4()
    await c.deliver(message(child_registered(parent, child)))
    await c.deliver(message(child_registered(parent, other)))
    use_by = date.today() + timedelta(days=10)
    unused = awarded(submitted(child), assign_by=use_by)
    used = awarded(submitted(other), assign_by=use_by)
    await c.deliver(message(unused))
    await c.deliver(message(used))
    await c.deliver(message(assigned(used, uuid4(), uuid4())))

    later = await consumer("notifications", url, clock_offset_s=9 * DAY)
    assert await fire(later) == 1
    reminded = await rows(
        url,
        "SELECT subject_id, payload->>'assign_by' AS assign_by FROM inbox_message WHERE kind = 'voucher_use_reminder'",
    )
    assert reminded == [{"subject_id": unused.voucher_id, "assign_by": use_by.isoformat()}]
    statuses = await rows(url, "SELECT subject_id, status FROM reminder ORDER BY status")
    assert {(r["subject_id"], r["status"]) for r in statuses} == {
        (used.voucher_id, "cancelled"),
        (unused.voucher_id, "fired"),
    }


async def test_an_expired_voucher_needs_no_reminder(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    parent, child = uuid4(), uuid4()
    await c.deliver(message(child_registered(parent, child)))
    voucher = awarded(submitted(child), assign_by=date.today() + timedelta(days=10))
    await c.deliver(message(voucher))
    expired = VoucherExpiredV1(
        voucher_id=voucher.voucher_id, child_id=child, round_id=voucher.round_id, reason="not_assigned_by_deadline"
    )
    await c.deliver(message(expired))

    later = await consumer("notifications", url, clock_offset_s=9 * DAY)
    assert await fire(later) == 0
    assert await kinds_for(url, f"person:{parent}") == ["child_registered", "voucher_awarded", "voucher_expired"]
