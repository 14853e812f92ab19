"""What notifications consumes (one table: event type -> service-layer handler), and its periodic jobs.

docs/architecture.md, "Service anatomy": ``scripts/asyncapi.py`` calls ``register(consumer, None)`` to list the
subscriptions, so the table is routed unconditionally and only the periodic jobs need a running service.
"""

from __future__ import annotations

from typing import cast

from notifications.bootstrap import bootstrap
from notifications.config import NotificationsSettings
from notifications.service_layer import (
    allocation_news,
    attendance_news,
    catalog_news,
    delivery,
    payments_news,
    people_news,
    reminding,
)
from notifications.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import EventConsumer, Subscriptions
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

SUBSCRIPTIONS: Subscriptions[Dependencies] = {
    # registry: who each child's guardians are
    ChildRegisteredV1: people_news.on_child_registered,
    GuardianshipEstablishedV1: people_news.on_guardianship_established,
    GuardianshipEndedV1: people_news.on_guardianship_ended,
    # catalog
    ProgrammePublishedV1: catalog_news.on_programme,
    ProgrammeChangedV1: catalog_news.on_programme,
    EnrolmentRequestedV1: catalog_news.on_enrolment_news,
    EnrolmentConfirmedV1: catalog_news.on_enrolment_news,
    EnrolmentRejectedV1: catalog_news.on_enrolment_news,
    EnrolmentEndedV1: catalog_news.on_enrolment_news,
    AttestationExpiringV1: catalog_news.on_attestation_expiring,
    # allocation
    ApplicationSubmittedV1: allocation_news.on_application_submitted,
    ApplicationWithdrawnV1: allocation_news.on_application_withdrawn,
    ApplicationWaitlistedV1: allocation_news.on_waitlisted,
    RoundClosedV1: allocation_news.on_round_closed,
    VoucherAwardedV1: allocation_news.on_voucher_awarded,
    VoucherAssignedV1: allocation_news.on_voucher_assigned,
    VoucherReleasedV1: allocation_news.on_voucher_released,
    VoucherExpiredV1: allocation_news.on_voucher_ended,
    VoucherRevokedV1: allocation_news.on_voucher_ended,
    # attendance
    AttendanceSubmittedV1: attendance_news.on_attendance_submitted,
    AttendanceConfirmedV1: attendance_news.on_timesheet_answered,
    AttendanceDisputedV1: attendance_news.on_timesheet_answered,
    DisputeResolvedV1: attendance_news.on_dispute_resolved,
    RiskFlagRaisedV1: attendance_news.on_risk_flag_raised,
    # payments
    PaymentAccruedV1: payments_news.on_payment_news,
    ProviderPaidV1: payments_news.on_payment_news,
    PaymentBatchApprovedV1: payments_news.on_payment_news,
    BudgetThresholdReachedV1: payments_news.on_payment_news,
    VoucherFundingRefusedV1: payments_news.on_voucher_funding_refused,
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
