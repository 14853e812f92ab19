"""Index of every event model of every producer (`ALL_EVENTS`), used for JSON Schema snapshots and AsyncAPI."""

from __future__ import annotations

from qosym_contracts.allocation import (
    ApplicationSubmittedV1,
    ApplicationWaitlistedV1,
    ApplicationWithdrawnV1,
    RegionConfiguredV1,
    RoundClosedV1,
    RoundOpenedV1,
    VoucherAssignedV1,
    VoucherAssignmentRejectedV1,
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
    ProgrammeClosedV1,
    ProgrammePublishedV1,
    ProviderSuspendedV1,
    ProviderVerifiedV1,
)
from qosym_contracts.conversations import MessagePostedV1
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.notifications import NotificationDeliveredV1
from qosym_contracts.payments import (
    BudgetThresholdReachedV1,
    PaymentAccruedV1,
    PaymentBatchApprovedV1,
    ProviderPaidV1,
    VoucherFundingRefusedV1,
)
from qosym_contracts.registry import (
    ChildCategoriesVerifiedV1,
    ChildDetailsChangedV1,
    ChildRegisteredV1,
    GuardianshipEndedV1,
    GuardianshipEstablishedV1,
)
from qosym_contracts.reviews import ReviewHiddenV1, ReviewPublishedV1

# one line per event; append yours (any order), then run `uv run python -m qosym_contracts.snapshots`
ALL_EVENTS: tuple[type[IntegrationEvent], ...] = (
    ReviewPublishedV1,
    ReviewHiddenV1,
    ChildRegisteredV1,
    ChildDetailsChangedV1,
    ChildCategoriesVerifiedV1,
    GuardianshipEstablishedV1,
    GuardianshipEndedV1,
    RegionConfiguredV1,
    RoundOpenedV1,
    RoundClosedV1,
    ApplicationSubmittedV1,
    ApplicationWithdrawnV1,
    ApplicationWaitlistedV1,
    VoucherAwardedV1,
    VoucherAssignedV1,
    VoucherAssignmentRejectedV1,
    VoucherReleasedV1,
    VoucherExpiredV1,
    VoucherRevokedV1,
    EnrolmentRequestedV1,
    EnrolmentEndedV1,
    EnrolmentConfirmedV1,
    EnrolmentRejectedV1,
    ProviderVerifiedV1,
    ProviderSuspendedV1,
    ProgrammePublishedV1,
    ProgrammeChangedV1,
    ProgrammeClosedV1,
    AttestationExpiringV1,
    AttendanceSubmittedV1,
    AttendanceConfirmedV1,
    AttendanceDisputedV1,
    DisputeResolvedV1,
    RiskFlagRaisedV1,
    PaymentAccruedV1,
    ProviderPaidV1,
    PaymentBatchApprovedV1,
    BudgetThresholdReachedV1,
    VoucherFundingRefusedV1,
    NotificationDeliveredV1,
    MessagePostedV1,
)


def schema_name(event: type[IntegrationEvent]) -> str:
    return f"{event.topic}.{event.__name__}"
