"""Inbox messages: what a person should hear about, and to whom it is addressed.

A message is addressed to one *audience*: a person (``person:<id>``), a provider's staff (``provider:<id>``),
a region's operators (``operators:<code>``) or a region's administrators (``administrators:<code>``). A message
about a child is addressed to each of the child's active guardians separately. Payloads carry opaque ids, codes,
dates and amounts only (no names, no IIN, no contact details); the text is rendered from templates in the
reader's language when it is read or sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

# --- kinds -----------------------------------------------------------------------------------------

CHILD_REGISTERED = "child_registered"
APPLICATION_RECEIVED = "application_received"
APPLICATION_WITHDRAWN = "application_withdrawn"
ROUND_CLOSED = "round_closed"
WAITLISTED = "waitlisted"
WAITLIST_POSITION_CHANGED = "waitlist_position_changed"
VOUCHER_AWARDED = "voucher_awarded"
VOUCHER_REOFFERED = "voucher_reoffered"
VOUCHER_USE_REMINDER = "voucher_use_reminder"
VOUCHER_RELEASED = "voucher_released"
VOUCHER_EXPIRED = "voucher_expired"
VOUCHER_REVOKED = "voucher_revoked"
ENROLMENT_REQUESTED = "enrolment_requested"
ENROLMENT_CONFIRMED = "enrolment_confirmed"
ENROLMENT_REJECTED = "enrolment_rejected"
ENROLMENT_ENDED = "enrolment_ended"
ATTESTATION_EXPIRING = "attestation_expiring"
ATTENDANCE_SUBMITTED = "attendance_submitted"
ATTENDANCE_CONFIRM_REMINDER = "attendance_confirm_reminder"
ATTENDANCE_CONFIRMED = "attendance_confirmed"
DISPUTE_OPENED = "dispute_opened"
DISPUTE_RESOLVED = "dispute_resolved"
RISK_FLAG_RAISED = "risk_flag_raised"
PAYMENT_ACCRUED = "payment_accrued"
PROVIDER_PAID = "provider_paid"
PAYMENT_BATCH_APPROVED = "payment_batch_approved"
BUDGET_THRESHOLD_REACHED = "budget_threshold_reached"
VOUCHER_FUNDING_REFUSED = "voucher_funding_refused"
MESSAGE_POSTED = "message_posted"  # a new message in a conversation (never its text)
REVIEW_HIDDEN = "review_hidden"  # an operator hid a guardian's review (its reason's category, never the text)
REVIEW_PUBLISHED = "review_published"  # a guardian reviewed one of the provider's programmes
SMS = "sms"  # a text delivered to the inbox by the development SMS gateway stand-in

KINDS: tuple[str, ...] = (
    CHILD_REGISTERED,
    APPLICATION_RECEIVED,
    APPLICATION_WITHDRAWN,
    ROUND_CLOSED,
    WAITLISTED,
    WAITLIST_POSITION_CHANGED,
    VOUCHER_AWARDED,
    VOUCHER_REOFFERED,
    VOUCHER_USE_REMINDER,
    VOUCHER_RELEASED,
    VOUCHER_EXPIRED,
    VOUCHER_REVOKED,
    ENROLMENT_REQUESTED,
    ENROLMENT_CONFIRMED,
    ENROLMENT_REJECTED,
    ENROLMENT_ENDED,
    ATTESTATION_EXPIRING,
    ATTENDANCE_SUBMITTED,
    ATTENDANCE_CONFIRM_REMINDER,
    ATTENDANCE_CONFIRMED,
    DISPUTE_OPENED,
    DISPUTE_RESOLVED,
    RISK_FLAG_RAISED,
    PAYMENT_ACCRUED,
    PROVIDER_PAID,
    PAYMENT_BATCH_APPROVED,
    BUDGET_THRESHOLD_REACHED,
    VOUCHER_FUNDING_REFUSED,
    MESSAGE_POSTED,
    REVIEW_HIDDEN,
    REVIEW_PUBLISHED,
    SMS,
)

# kinds that may also go out by SMS when the person has not chosen otherwise (deadlines and vouchers)
URGENT_KINDS = frozenset({VOUCHER_AWARDED, VOUCHER_REOFFERED, VOUCHER_USE_REMINDER, ATTENDANCE_CONFIRM_REMINDER})
# never sent through e-mail or SMS: the stand-in's texts are themselves an SMS
IN_APP_ONLY = frozenset({SMS})

# --- audiences -------------------------------------------------------------------------------------


def person_audience(person_id: UUID) -> str:
    return f"person:{person_id}"


def provider_audience(provider_id: UUID) -> str:
    return f"provider:{provider_id}"


def operators_audience(region_code: str) -> str:
    return f"operators:{region_code}"


def administrators_audience(region_code: str) -> str:
    return f"administrators:{region_code}"


ALL_ADMINISTRATORS = "administrators:*"  # an administrator without a region scope reads every region's


def person_of(audience: str) -> UUID | None:
    """The person a ``person:`` audience names; None for group audiences."""
    prefix, _, rest = audience.partition(":")
    if prefix != "person":
        return None
    try:
        return UUID(rest)
    except ValueError:
        return None


def audiences_of(role: str, person_id: UUID, scope: dict[str, str]) -> tuple[str, ...]:
    """What a caller reads: their own messages, and those of the group their token's scope names."""
    own = person_audience(person_id)
    if role == "provider_staff" and scope.get("provider"):
        return own, f"provider:{scope['provider']}"
    if role == "operator" and scope.get("region"):
        return own, operators_audience(scope["region"])
    if role == "administrator":
        return own, administrators_audience(scope["region"]) if scope.get("region") else ALL_ADMINISTRATORS
    return (own,)


def audience_matches(audience: str, wanted: tuple[str, ...]) -> bool:
    return any(audience == w or (w.endswith(":*") and audience.startswith(w[:-1])) for w in wanted)


# --- messages --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Guardians:
    """Every active guardian of the child, each as their own recipient."""

    child_id: UUID


Target = Guardians | str  # str: an audience key


@dataclass(frozen=True)
class Notice:
    """What an event means for someone, before the recipients are resolved."""

    kind: str
    target: Target
    subject_id: UUID
    key: str  # the business identity: the same intent under a new event id is the same message
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewMessage:
    audience: str
    kind: str
    subject_id: UUID
    event_id: UUID
    dedup_key: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def person_id(self) -> UUID | None:
        return person_of(self.audience)


def addressed(notice: Notice, audience: str, event_id: UUID) -> NewMessage:
    return NewMessage(
        audience=audience,
        kind=notice.kind,
        subject_id=notice.subject_id,
        event_id=event_id,
        dedup_key=f"{notice.kind}:{notice.key}",
        payload=notice.payload,
    )


def child_registered(guardian_id: UUID, child_id: UUID, region_code: str, district_code: str) -> Notice:
    return Notice(
        kind=CHILD_REGISTERED,
        target=person_audience(guardian_id),
        subject_id=child_id,
        key=str(child_id),
        payload={"child_id": str(child_id), "region_code": region_code, "district_code": district_code},
    )


def sms(person_id: UUID, message_id: UUID, text: str) -> NewMessage:
    """A text message delivered to the inbox by the development SMS gateway stand-in (the phone is not kept)."""
    return NewMessage(
        audience=person_audience(person_id),
        kind=SMS,
        subject_id=message_id,
        event_id=message_id,
        dedup_key=f"{SMS}:{message_id}",
        payload={"text": text},
    )


def waitlist_kind(previous_position: int | None) -> str:
    """The first waitlisting is the round's result; later ones are position changes."""
    return WAITLISTED if previous_position is None else WAITLIST_POSITION_CHANGED


def award_kind(was_waitlisted: bool) -> str:
    """A voucher for an application that waited on the list is a re-offer."""
    return VOUCHER_REOFFERED if was_waitlisted else VOUCHER_AWARDED


@dataclass(frozen=True)
class Message:
    id: UUID
    seq: int
    audience: str
    kind: str
    subject_id: UUID
    payload: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
