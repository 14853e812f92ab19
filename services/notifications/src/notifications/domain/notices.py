"""What each platform event means for the people concerned: pure functions from an event to notices.

Notices whose kind depends on what came before (a waitlist position that changed, a re-offered voucher, a
round's closing for each applicant) are built by the service layer from its projections with the helpers in
``messages``; everything else is decided here from the event alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from notifications.domain import messages as m
from qosym_contracts.allocation import (
    ApplicationSubmittedV1,
    ApplicationWithdrawnV1,
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
)
from qosym_contracts.conversations import MessagePostedV1
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.payments import (
    BudgetThresholdReachedV1,
    PaymentAccruedV1,
    PaymentBatchApprovedV1,
    ProviderPaidV1,
    VoucherFundingRefusedV1,
)
from qosym_contracts.reviews import ReviewHiddenV1, ReviewPublishedV1


def _s(value: Any) -> str:
    return str(value)


def application_received(e: ApplicationSubmittedV1) -> list[m.Notice]:
    payload = {
        "application_id": _s(e.application_id),
        "round_id": _s(e.round_id),
        "child_id": _s(e.child_id),
        "region_code": e.region_code,
        "district_code": e.district_code,
        "direction": e.direction,
    }
    return [m.Notice(m.APPLICATION_RECEIVED, m.Guardians(e.child_id), e.application_id, _s(e.application_id), payload)]


def application_withdrawn(e: ApplicationWithdrawnV1) -> list[m.Notice]:
    payload = {"application_id": _s(e.application_id), "round_id": _s(e.round_id), "child_id": _s(e.child_id)}
    return [m.Notice(m.APPLICATION_WITHDRAWN, m.Guardians(e.child_id), e.application_id, _s(e.application_id), payload)]


def voucher_released(e: VoucherReleasedV1) -> list[m.Notice]:
    payload = {
        "voucher_id": _s(e.voucher_id),
        "child_id": _s(e.child_id),
        "reason": e.reason,
        "reassignable_until": e.reassignable_until.isoformat() if e.reassignable_until else None,
    }
    key = f"{e.voucher_id}:{e.enrolment_id or e.reason}"
    return [m.Notice(m.VOUCHER_RELEASED, m.Guardians(e.child_id), e.voucher_id, key, payload)]


def voucher_expired(e: VoucherExpiredV1) -> list[m.Notice]:
    payload = {"voucher_id": _s(e.voucher_id), "child_id": _s(e.child_id), "reason": e.reason}
    return [m.Notice(m.VOUCHER_EXPIRED, m.Guardians(e.child_id), e.voucher_id, _s(e.voucher_id), payload)]


def voucher_revoked(e: VoucherRevokedV1) -> list[m.Notice]:
    payload = {"voucher_id": _s(e.voucher_id), "child_id": _s(e.child_id), "reason": e.reason}
    return [m.Notice(m.VOUCHER_REVOKED, m.Guardians(e.child_id), e.voucher_id, _s(e.voucher_id), payload)]


def enrolment_requested(e: EnrolmentRequestedV1) -> list[m.Notice]:
    payload = {
        "enrolment_id": _s(e.enrolment_id),
        "child_id": _s(e.child_id),
        "programme_id": _s(e.programme_id),
        "provider_id": _s(e.provider_id),
    }
    audience = m.provider_audience(e.provider_id)
    return [m.Notice(m.ENROLMENT_REQUESTED, audience, e.enrolment_id, _s(e.enrolment_id), payload)]


def enrolment_confirmed(e: EnrolmentConfirmedV1) -> list[m.Notice]:
    payload = {
        "enrolment_id": _s(e.enrolment_id),
        "child_id": _s(e.child_id),
        "programme_id": _s(e.programme_id),
        "provider_id": _s(e.provider_id),
        "voucher_id": _s(e.voucher_id),
        "price_per_month_tiyn": e.price_per_month_tiyn,
        "sessions_per_month": e.sessions_per_month,
    }
    return [m.Notice(m.ENROLMENT_CONFIRMED, m.Guardians(e.child_id), e.enrolment_id, _s(e.enrolment_id), payload)]


def enrolment_rejected(e: EnrolmentRejectedV1) -> list[m.Notice]:
    payload = {
        "enrolment_id": _s(e.enrolment_id),
        "child_id": _s(e.child_id),
        "programme_id": _s(e.programme_id),
        "reason": e.reason,
    }
    return [m.Notice(m.ENROLMENT_REJECTED, m.Guardians(e.child_id), e.enrolment_id, _s(e.enrolment_id), payload)]


def enrolment_ended(e: EnrolmentEndedV1) -> list[m.Notice]:
    payload = {"enrolment_id": _s(e.enrolment_id), "child_id": _s(e.child_id), "reason": e.reason}
    return [m.Notice(m.ENROLMENT_ENDED, m.Guardians(e.child_id), e.enrolment_id, _s(e.enrolment_id), payload)]


def attestation_expiring(e: AttestationExpiringV1) -> list[m.Notice]:
    payload = {
        "attestation_id": _s(e.attestation_id),
        "provider_id": _s(e.provider_id),
        "subject_type": e.subject_type,
        "subject_id": _s(e.subject_id),
        "attestation_kind": e.kind,
        "valid_until": e.valid_until.isoformat(),
        "expired": e.expired,
    }
    key = f"{e.attestation_id}:{e.valid_until}:{e.expired}"
    return [m.Notice(m.ATTESTATION_EXPIRING, m.provider_audience(e.provider_id), e.attestation_id, key, payload)]


def _timesheet(
    e: AttendanceSubmittedV1 | AttendanceConfirmedV1 | AttendanceDisputedV1 | DisputeResolvedV1,
) -> dict[str, Any]:
    return {
        "timesheet_id": _s(e.timesheet_id),
        "enrolment_id": _s(e.enrolment_id),
        "child_id": _s(e.child_id),
        "programme_id": _s(e.programme_id),
        "provider_id": _s(e.provider_id),
        "period": e.period,
        "planned_sessions": e.planned_sessions,
    }


def attendance_submitted(e: AttendanceSubmittedV1) -> list[m.Notice]:
    payload = {
        **_timesheet(e),
        "attended_sessions": e.attended_sessions,
        "confirm_by": e.confirm_by.isoformat(),
    }
    key = f"{e.timesheet_id}:{e.confirm_by.isoformat()}"
    return [m.Notice(m.ATTENDANCE_SUBMITTED, m.Guardians(e.child_id), e.timesheet_id, key, payload)]


def attendance_confirmed(e: AttendanceConfirmedV1) -> list[m.Notice]:
    payload = {
        **_timesheet(e),
        "payable_sessions": e.payable_sessions,
        "attended_sessions": e.attended_sessions,
        "basis": e.basis,
    }
    audience = m.provider_audience(e.provider_id)
    return [m.Notice(m.ATTENDANCE_CONFIRMED, audience, e.timesheet_id, _s(e.timesheet_id), payload)]


def dispute_opened(e: AttendanceDisputedV1) -> list[m.Notice]:
    payload = {**_timesheet(e), "dispute_id": _s(e.dispute_id), "disputed_sessions": e.disputed_sessions}
    key = _s(e.dispute_id)
    return [
        m.Notice(m.DISPUTE_OPENED, m.Guardians(e.child_id), e.dispute_id, key, payload),
        m.Notice(m.DISPUTE_OPENED, m.provider_audience(e.provider_id), e.dispute_id, key, payload),
        m.Notice(m.DISPUTE_OPENED, m.operators_audience(e.region_code), e.dispute_id, key, payload),
    ]


def dispute_resolved(e: DisputeResolvedV1) -> list[m.Notice]:
    payload = {
        **_timesheet(e),
        "dispute_id": _s(e.dispute_id),
        "payable_sessions": e.payable_sessions,
        "outcome": e.outcome,
    }
    key = _s(e.dispute_id)
    return [
        m.Notice(m.DISPUTE_RESOLVED, m.Guardians(e.child_id), e.dispute_id, key, payload),
        m.Notice(m.DISPUTE_RESOLVED, m.provider_audience(e.provider_id), e.dispute_id, key, payload),
    ]


def risk_flag_raised(e: RiskFlagRaisedV1) -> list[m.Notice]:
    payload = {
        "flag_id": _s(e.flag_id),
        "rule": e.rule,
        "subject_type": e.subject_type,
        "subject_id": _s(e.subject_id),
        "provider_id": _s(e.provider_id) if e.provider_id else None,
        "region_code": e.region_code,
        "period": e.period,
        "severity": e.severity,
        "summary": e.summary,
    }
    return [m.Notice(m.RISK_FLAG_RAISED, m.operators_audience(e.region_code), e.flag_id, _s(e.flag_id), payload)]


def payment_accrued(e: PaymentAccruedV1) -> list[m.Notice]:
    payload = {
        "accrual_id": _s(e.accrual_id),
        "provider_id": _s(e.provider_id),
        "enrolment_id": _s(e.enrolment_id),
        "programme_id": _s(e.programme_id),
        "timesheet_id": _s(e.timesheet_id),
        "period": e.period,
        "amount_tiyn": e.amount_tiyn,
        "payable_sessions": e.payable_sessions,
        "planned_sessions": e.planned_sessions,
    }
    audience = m.provider_audience(e.provider_id)
    return [m.Notice(m.PAYMENT_ACCRUED, audience, e.accrual_id, _s(e.accrual_id), payload)]


def provider_paid(e: ProviderPaidV1) -> list[m.Notice]:
    payload = {
        "batch_id": _s(e.batch_id),
        "provider_id": _s(e.provider_id),
        "period": e.period,
        "amount_tiyn": e.amount_tiyn,
        "paid_at": e.paid_at.isoformat(),
        "treasury_reference": e.treasury_reference,
    }
    key = f"{e.batch_id}:{e.provider_id}"
    return [m.Notice(m.PROVIDER_PAID, m.provider_audience(e.provider_id), e.batch_id, key, payload)]


def payment_batch_approved(e: PaymentBatchApprovedV1) -> list[m.Notice]:
    payload = {
        "batch_id": _s(e.batch_id),
        "region_code": e.region_code,
        "period": e.period,
        "providers": e.providers,
        "total_tiyn": e.total_tiyn,
    }
    audience = m.administrators_audience(e.region_code)
    return [m.Notice(m.PAYMENT_BATCH_APPROVED, audience, e.batch_id, _s(e.batch_id), payload)]


def budget_threshold_reached(e: BudgetThresholdReachedV1) -> list[m.Notice]:
    payload = {
        "round_id": _s(e.round_id),
        "region_code": e.region_code,
        "threshold_percent": e.threshold_percent,
        "budget_tiyn": e.budget_tiyn,
        "committed_tiyn": e.committed_tiyn,
        "spent_tiyn": e.spent_tiyn,
        "forecast_tiyn": e.forecast_tiyn,
    }
    key = f"{e.round_id}:{e.threshold_percent}"
    audience = m.administrators_audience(e.region_code)
    return [m.Notice(m.BUDGET_THRESHOLD_REACHED, audience, e.round_id, key, payload)]


def voucher_funding_refused(e: VoucherFundingRefusedV1) -> list[m.Notice]:
    payload = {
        "round_id": _s(e.round_id),
        "voucher_id": _s(e.voucher_id),
        "region_code": e.region_code,
        "requested_tiyn": e.requested_tiyn,
        "available_tiyn": e.available_tiyn,
    }
    audience = m.administrators_audience(e.region_code)
    return [m.Notice(m.VOUCHER_FUNDING_REFUSED, audience, e.voucher_id, _s(e.voucher_id), payload)]


def message_posted(e: MessagePostedV1) -> list[m.Notice]:
    """A new message in a thread, for its other side: each guardian named, the provider's staff, the region's
    operators. Never the author, never the text (the bus carries none): the thread to open and what it is about."""
    payload = {
        "thread_id": _s(e.thread_id),
        "message_id": _s(e.message_id),
        "object_type": e.object_type,
        "object_id": _s(e.object_id),
        "counterpart": e.counterpart,
        "author_role": e.author_role,
        "provider_id": _s(e.recipient_provider_id) if e.recipient_provider_id else None,
        "region_code": e.recipient_region_code,
        "district_code": e.recipient_district_code,
    }
    audiences = [m.person_audience(g) for g in dict.fromkeys(e.recipient_guardian_ids) if g != e.author_id]
    if e.recipient_provider_id is not None and e.author_role != "provider_staff":
        audiences.append(m.provider_audience(e.recipient_provider_id))
    if e.recipient_region_code is not None and e.author_role != "operator":
        audiences.append(m.operators_audience(e.recipient_region_code))
    key = _s(e.message_id)
    return [m.Notice(m.MESSAGE_POSTED, audience, e.thread_id, key, payload) for audience in audiences]


def _review(e: ReviewPublishedV1 | ReviewHiddenV1) -> dict[str, Any]:
    return {
        "review_id": _s(e.review_id),
        "programme_id": _s(e.programme_id),
        "provider_id": _s(e.provider_id),
        "enrolment_id": _s(e.enrolment_id),
        "child_id": _s(e.child_id),
    }


def review_published(e: ReviewPublishedV1) -> list[m.Notice]:
    """A guardian reviewed one of the provider's programmes: its staff are told (to read it, and answer once)."""
    audience = m.provider_audience(e.provider_id)
    return [m.Notice(m.REVIEW_PUBLISHED, audience, e.review_id, _s(e.review_id), _review(e))]


def review_hidden(e: ReviewHiddenV1) -> list[m.Notice]:
    """An operator hid a review: its author (and only them) is told, with the reason's category."""
    payload = {**_review(e), "reason": e.reason_code}
    return [m.Notice(m.REVIEW_HIDDEN, m.person_audience(e.guardian_id), e.review_id, _s(e.review_id), payload)]


# events whose notices depend on the event alone
DIRECT: dict[type[IntegrationEvent], Callable[[Any], list[m.Notice]]] = {
    ApplicationWithdrawnV1: application_withdrawn,
    VoucherReleasedV1: voucher_released,
    VoucherExpiredV1: voucher_expired,
    VoucherRevokedV1: voucher_revoked,
    EnrolmentRequestedV1: enrolment_requested,
    EnrolmentConfirmedV1: enrolment_confirmed,
    EnrolmentRejectedV1: enrolment_rejected,
    EnrolmentEndedV1: enrolment_ended,
    AttestationExpiringV1: attestation_expiring,
    AttendanceSubmittedV1: attendance_submitted,
    AttendanceConfirmedV1: attendance_confirmed,
    AttendanceDisputedV1: dispute_opened,
    DisputeResolvedV1: dispute_resolved,
    RiskFlagRaisedV1: risk_flag_raised,
    PaymentAccruedV1: payment_accrued,
    ProviderPaidV1: provider_paid,
    PaymentBatchApprovedV1: payment_batch_approved,
    BudgetThresholdReachedV1: budget_threshold_reached,
    VoucherFundingRefusedV1: voucher_funding_refused,
    ReviewPublishedV1: review_published,
    ReviewHiddenV1: review_hidden,
}


def voucher_notice(kind: str, voucher_id: UUID, payload: dict[str, Any], child_id: UUID) -> m.Notice:
    return m.Notice(kind, m.Guardians(child_id), voucher_id, _s(voucher_id), payload)
