"""What insights consumes (it publishes nothing)."""

from __future__ import annotations

from insights.bootstrap import dependencies
from insights.config import InsightsSettings
from insights.service_layer import projections as p
from insights.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import EventConsumer, Subscriptions
from qosym_chassis.context import ServiceContext
from qosym_contracts.allocation import (
    ApplicationSubmittedV1,
    ApplicationWaitlistedV1,
    ApplicationWithdrawnV1,
    RegionConfiguredV1,
    RoundClosedV1,
    RoundOpenedV1,
    VoucherAwardedV1,
    VoucherExpiredV1,
    VoucherRevokedV1,
)
from qosym_contracts.attendance import (
    AttendanceConfirmedV1,
    AttendanceDisputedV1,
    AttendanceSubmittedV1,
    DisputeResolvedV1,
)
from qosym_contracts.catalog import (
    EnrolmentConfirmedV1,
    EnrolmentEndedV1,
    ProgrammeChangedV1,
    ProgrammeClosedV1,
    ProgrammePublishedV1,
)
from qosym_contracts.payments import PaymentAccruedV1, ProviderPaidV1
from qosym_contracts.registry import ChildCategoriesVerifiedV1, ChildDetailsChangedV1, ChildRegisteredV1

SUBSCRIPTIONS: Subscriptions[Dependencies] = {
    RegionConfiguredV1: p.on_region_configured,
    ChildRegisteredV1: p.on_child_details,
    ChildDetailsChangedV1: p.on_child_details,
    ChildCategoriesVerifiedV1: p.on_child_categories,
    RoundOpenedV1: p.on_round_opened,
    RoundClosedV1: p.on_round_closed,
    ApplicationSubmittedV1: p.on_application_submitted,
    ApplicationWithdrawnV1: p.on_application_withdrawn,
    ApplicationWaitlistedV1: p.on_application_waitlisted,
    VoucherAwardedV1: p.on_voucher_awarded,
    VoucherRevokedV1: p.on_voucher_ended,
    VoucherExpiredV1: p.on_voucher_ended,
    ProgrammePublishedV1: p.on_programme,
    ProgrammeChangedV1: p.on_programme,
    ProgrammeClosedV1: p.on_programme_closed,
    EnrolmentConfirmedV1: p.on_enrolment_confirmed,
    EnrolmentEndedV1: p.on_enrolment_ended,
    AttendanceSubmittedV1: p.on_attendance_submitted,
    AttendanceConfirmedV1: p.on_attendance_confirmed,
    AttendanceDisputedV1: p.on_attendance_disputed,
    DisputeResolvedV1: p.on_dispute_resolved,
    PaymentAccruedV1: p.on_payment_accrued,
    ProviderPaidV1: p.on_provider_paid,
}


def register(consumer: EventConsumer, context: ServiceContext | None) -> None:
    """``context`` is None only when documents are generated (scripts/asyncapi.py): the table is still listed."""
    deps: Dependencies | None = None
    if context is not None:
        settings = context.settings
        assert isinstance(settings, InsightsSettings)
        deps = dependencies(settings, context)
    consumer.route(SUBSCRIPTIONS, deps)  # type: ignore[arg-type]  # None only for documents, never applied
