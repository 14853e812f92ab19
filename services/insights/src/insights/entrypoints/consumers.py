"""What insights consumes (it publishes nothing)."""

from __future__ import annotations

from insights.bootstrap import dependencies
from insights.config import InsightsSettings
from insights.service_layer import projections as p
from insights.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import EventConsumer, Many, Subscriptions
from qosym_chassis.context import ServiceContext
from qosym_contracts import allocation, attendance, catalog, payments, registry

SUBSCRIPTIONS: Subscriptions[Dependencies] = {
    allocation.RegionConfiguredV1: p.on_region_configured,
    registry.ChildRegisteredV1: Many(p.on_many_child_details),  # a registry backlog, a rebuild: set-based
    registry.ChildDetailsChangedV1: Many(p.on_many_child_details),
    registry.ChildCategoriesVerifiedV1: p.on_child_categories,
    allocation.RoundOpenedV1: p.on_round_opened,
    allocation.RoundClosedV1: p.on_round_closed,
    allocation.ApplicationSubmittedV1: Many(p.on_many_applications_submitted),  # a round's burst: set-based
    allocation.ApplicationWithdrawnV1: p.on_application_withdrawn,
    allocation.ApplicationWaitlistedV1: Many(p.on_many_applications_waitlisted),
    allocation.VoucherAwardedV1: Many(p.on_many_vouchers_awarded),
    allocation.VoucherRevokedV1: p.on_voucher_ended,
    allocation.VoucherExpiredV1: p.on_voucher_ended,
    catalog.ProgrammePublishedV1: p.on_programme,
    catalog.ProgrammeChangedV1: p.on_programme,
    catalog.ProgrammeClosedV1: p.on_programme_closed,
    catalog.EnrolmentConfirmedV1: p.on_enrolment_confirmed,
    catalog.EnrolmentEndedV1: p.on_enrolment_ended,
    attendance.AttendanceSubmittedV1: p.on_attendance_submitted,
    attendance.AttendanceConfirmedV1: p.on_attendance_confirmed,
    attendance.AttendanceDisputedV1: p.on_attendance_disputed,
    attendance.DisputeResolvedV1: p.on_dispute_resolved,
    payments.PaymentAccruedV1: p.on_payment_accrued,
    payments.ProviderPaidV1: p.on_provider_paid,
}


def register(consumer: EventConsumer, context: ServiceContext | None) -> None:
    """``context`` is None only when documents are generated (scripts/asyncapi.py): the table is still listed."""
    deps: Dependencies | None = None
    if context is not None:
        settings = context.settings
        assert isinstance(settings, InsightsSettings)
        deps = dependencies(settings, context)
    consumer.route(SUBSCRIPTIONS, deps)  # type: ignore[arg-type]  # None only for documents, never applied
