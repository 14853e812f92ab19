"""What notifications consumes (one table: event type -> service-layer handler), and its periodic jobs.

docs/architecture.md, "Service anatomy": ``scripts/asyncapi.py`` calls ``register(consumer, None)`` to list the
subscriptions, so the table is routed unconditionally and only the periodic jobs need a running service.
"""

from __future__ import annotations

from typing import cast

from notifications.bootstrap import bootstrap
from notifications.config import NotificationsSettings
from notifications.domain import notices
from notifications.service_layer import (
    allocation_news,
    attendance_news,
    catalog_news,
    conversations_news,
    delivery,
    fanout,
    people_news,
    reminding,
    round_results,
)
from notifications.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import EventConsumer, Many, Subscriptions
from qosym_chassis.context import ServiceContext
from qosym_contracts import allocation, attendance, catalog, conversations, registry

SUBSCRIPTIONS: Subscriptions[Dependencies] = {
    # an event whose meaning needs nothing but the event: its notices (domain.notices.DIRECT), published
    **dict.fromkeys(notices.DIRECT, fanout.publish_notices),
    # the rest (and those of DIRECT that do more: remember, plan or cancel reminders)
    # registry: who each child's guardians are
    registry.ChildRegisteredV1: people_news.on_child_registered,
    registry.GuardianshipEstablishedV1: people_news.on_guardianship_established,
    registry.GuardianshipEndedV1: people_news.on_guardianship_ended,
    # catalog
    catalog.ProgrammePublishedV1: catalog_news.on_programme,
    catalog.ProgrammeChangedV1: catalog_news.on_programme,
    # allocation
    allocation.ApplicationSubmittedV1: Many(round_results.on_many_applications_submitted),
    allocation.ApplicationWithdrawnV1: allocation_news.on_application_withdrawn,
    allocation.ApplicationWaitlistedV1: Many(round_results.on_many_waitlisted),  # a round's burst: set-based
    allocation.RoundClosedV1: allocation_news.on_round_closed,
    allocation.VoucherAwardedV1: Many(round_results.on_many_vouchers_awarded),
    allocation.VoucherAssignedV1: allocation_news.on_voucher_assigned,
    allocation.VoucherReleasedV1: allocation_news.on_voucher_released,
    allocation.VoucherExpiredV1: allocation_news.on_voucher_ended,
    allocation.VoucherRevokedV1: allocation_news.on_voucher_ended,
    # attendance
    attendance.AttendanceSubmittedV1: attendance_news.on_attendance_submitted,
    attendance.AttendanceConfirmedV1: attendance_news.on_timesheet_answered,
    attendance.AttendanceDisputedV1: attendance_news.on_timesheet_answered,
    # conversations: a new message, for the other side of its thread
    conversations.MessagePostedV1: conversations_news.on_message_posted,
}


def register(consumer: EventConsumer, ctx: ServiceContext | None) -> None:
    if ctx is None:  # only listing the subscriptions (scripts/asyncapi.py): no handler is ever called
        consumer.route(SUBSCRIPTIONS, cast(Dependencies, None))
        return
    settings = ctx.settings
    assert isinstance(settings, NotificationsSettings)  # the consumers process runs with notifications' settings
    deps = bootstrap(settings, ctx).deps
    consumer.route(SUBSCRIPTIONS, deps)

    async def deliver_due() -> int:
        return await delivery.deliver_due(deps)

    async def fire_reminders() -> int:
        return await reminding.fire_due_reminders(deps)

    consumer.every(settings.delivery_interval_s, deliver_due)
    consumer.every(settings.reminder_interval_s, fire_reminders)
