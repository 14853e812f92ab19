"""What notifications consumes, and its periodic jobs (sending deliveries, firing reminders)."""

from __future__ import annotations

from typing import Any

from notifications.bootstrap import bootstrap, handlers_for
from notifications.config import NotificationsSettings
from notifications.domain import notices
from notifications.service_layer.delivery import fire_due_reminders
from notifications.service_layer.handlers import EventHandlers
from qosym_chassis.clock import Clock
from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext
from qosym_contracts.allocation import (
    ApplicationSubmittedV1,
    ApplicationWaitlistedV1,
    ApplicationWithdrawnV1,
    RoundClosedV1,
    VoucherAssignedV1,
    VoucherAwardedV1,
    VoucherExpiredV1,
    VoucherReleasedV1,
    VoucherRevokedV1,
)
from qosym_contracts.attendance import (
    AttendanceConfirmedV1,
    AttendanceDisputedV1,
    AttendanceSubmittedV1,
    DisputeResolvedV1,
    RiskFlagRaisedV1,
)
from qosym_contracts.catalog import (
    AttestationExpiringV1,
    EnrolmentConfirmedV1,
    EnrolmentEndedV1,
    EnrolmentRejectedV1,
    EnrolmentRequestedV1,
    ProgrammeChangedV1,
    ProgrammePublishedV1,
)
from qosym_contracts.payments import (
    BudgetThresholdReachedV1,
    PaymentAccruedV1,
    PaymentBatchApprovedV1,
    ProviderPaidV1,
    VoucherFundingRefusedV1,
)
from qosym_contracts.registry import ChildRegisteredV1, GuardianshipEndedV1, GuardianshipEstablishedV1


def subscribe(consumer: EventConsumer, h: EventHandlers) -> None:
    consumer.on(ChildRegisteredV1, h.on_child_registered)
    consumer.on(GuardianshipEstablishedV1, h.on_guardianship_established)
    consumer.on(GuardianshipEndedV1, h.on_guardianship_ended)
    consumer.on(ProgrammePublishedV1, h.on_programme)
    consumer.on(ProgrammeChangedV1, h.on_programme)
    consumer.on(ApplicationSubmittedV1, h.on_application_submitted)
    consumer.on(ApplicationWithdrawnV1, h.on_application_withdrawn)
    consumer.on(ApplicationWaitlistedV1, h.on_waitlisted)
    consumer.on(RoundClosedV1, h.on_round_closed)
    consumer.on(VoucherAwardedV1, h.on_voucher_awarded)
    consumer.on(VoucherAssignedV1, h.on_voucher_assigned)
    consumer.on(VoucherExpiredV1, h.on_voucher_ended)
    consumer.on(VoucherRevokedV1, h.on_voucher_ended)
    consumer.on(AttendanceSubmittedV1, h.on_attendance_submitted)
    consumer.on(AttendanceConfirmedV1, h.on_timesheet_answered)
    consumer.on(AttendanceDisputedV1, h.on_timesheet_answered)
    direct: tuple[type[Any], ...] = (
        VoucherReleasedV1,
        EnrolmentRequestedV1,
        EnrolmentConfirmedV1,
        EnrolmentRejectedV1,
        EnrolmentEndedV1,
        AttestationExpiringV1,
        DisputeResolvedV1,
        RiskFlagRaisedV1,
        PaymentAccruedV1,
        ProviderPaidV1,
        PaymentBatchApprovedV1,
        BudgetThresholdReachedV1,
        VoucherFundingRefusedV1,
    )
    for event_class in direct:
        assert event_class in notices.DIRECT
        consumer.on(event_class, h.on_direct)


def register(consumer: EventConsumer, ctx: ServiceContext) -> None:
    # ctx is None when only the subscriptions are listed (scripts/asyncapi.py)
    if ctx is None:
        subscribe(consumer, handlers_for(NotificationsSettings.model_construct(), Clock()))
        return
    settings = ctx.settings
    assert isinstance(settings, NotificationsSettings)
    notifications = bootstrap(settings, ctx)
    subscribe(consumer, notifications.handlers)

    async def fire_reminders() -> int:
        return await fire_due_reminders(ctx.session_factory, ctx.clock)

    consumer.every(settings.delivery_interval_s, notifications.deliverer.deliver_due)
    consumer.every(settings.reminder_interval_s, fire_reminders)
