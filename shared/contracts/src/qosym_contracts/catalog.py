"""Events published by the catalog service (owned by the catalog developers)."""

from __future__ import annotations

from datetime import date, time
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from qosym_contracts import topics
from qosym_contracts.allocation import AssignmentRejectReason, LocalisedName
from qosym_contracts.envelope import IntegrationEvent

# Reason codes: closed sets, so no free text travels on the bus (a person's explanation stays in catalog).
EnrolmentEndReason = Literal[
    "left",  # the guardian ended it
    "ended_by_provider",
    "ended_by_operator",
    "declined_by_provider",  # within the decline window
    "changed_club",  # the child moved to another programme (ended once the new one was confirmed)
    "reservation_expired",  # never attended within the window after confirmation
    "programme_closed",
]
"""Why an enrolment ended."""

ProviderSuspendReason = Literal[
    "compliance_breach",
    "attestations_lapsed",
    "quality_complaints",
    "fraud_suspected",
    "provider_request",
    "other",
]
"""Why an operator suspended a provider; the operator's note stays in catalog (``status_reason``)."""


class EnrolmentRequestedV1(IntegrationEvent):
    """A seat is reserved for a child in a programme; allocation answers with VoucherAssigned or a rejection."""

    topic: ClassVar[str] = topics.CATALOG_ENROLMENT.name
    key_field: ClassVar[str] = "child_id"

    event_type: Literal["catalog.EnrolmentRequested"] = "catalog.EnrolmentRequested"
    event_version: Literal[1] = 1

    enrolment_id: UUID
    child_id: UUID
    programme_id: UUID
    provider_id: UUID
    direction: str = Field(examples=["sports"])
    region_code: str = Field(examples=["astana"])
    district_code: str = Field(examples=["yesil"])
    age_min: int = Field(ge=0, description="the programme's age band, in full years")
    age_max: int = Field(ge=0)
    replaces_enrolment_id: UUID | None = Field(
        default=None,
        description="a change of club: the child's confirmed enrolment this one replaces; its voucher moves to this "
        "one only if it can be assigned, and catalog ends the old enrolment after the VoucherAssigned",
    )


class EnrolmentEndedV1(IntegrationEvent):
    """The child left the programme (or the reservation lapsed); its voucher is released."""

    topic: ClassVar[str] = topics.CATALOG_ENROLMENT.name
    key_field: ClassVar[str] = "child_id"

    event_type: Literal["catalog.EnrolmentEnded"] = "catalog.EnrolmentEnded"
    event_version: Literal[1] = 1

    enrolment_id: UUID
    child_id: UUID
    reason: EnrolmentEndReason = Field(default="left", description="a reason code (v1 carried free text until 2026-12)")


class EnrolmentConfirmedV1(IntegrationEvent):
    """Allocation assigned a voucher: the child holds the seat and the provider may bill for it."""

    topic: ClassVar[str] = topics.CATALOG_ENROLMENT.name
    key_field: ClassVar[str] = "child_id"

    event_type: Literal["catalog.EnrolmentConfirmed"] = "catalog.EnrolmentConfirmed"
    event_version: Literal[1] = 1

    enrolment_id: UUID
    child_id: UUID
    programme_id: UUID
    provider_id: UUID
    voucher_id: UUID
    direction: str
    region_code: str
    district_code: str
    price_per_month_tiyn: int = Field(ge=0, description="integer tiyn")
    sessions_per_month: int = Field(ge=1)


class EnrolmentRejectedV1(IntegrationEvent):
    """No voucher could be assigned: the seat is released and the parent sees the reason."""

    topic: ClassVar[str] = topics.CATALOG_ENROLMENT.name
    key_field: ClassVar[str] = "child_id"

    event_type: Literal["catalog.EnrolmentRejected"] = "catalog.EnrolmentRejected"
    event_version: Literal[1] = 1

    enrolment_id: UUID
    child_id: UUID
    programme_id: UUID
    reason: AssignmentRejectReason


class ProviderVerifiedV1(IntegrationEvent):
    """An operator verified a provider's registration (BIN, bank details): it may publish programmes."""

    topic: ClassVar[str] = topics.CATALOG_PROVIDER.name
    key_field: ClassVar[str] = "provider_id"

    event_type: Literal["catalog.ProviderVerified"] = "catalog.ProviderVerified"
    event_version: Literal[1] = 1

    provider_id: UUID
    bin: str = Field(description="the organisation's BIN (a legal entity's public identifier)")
    name: str
    region_code: str
    district_code: str
    iban: str | None = Field(default=None, description="the organisation's KZ IBAN for payment orders")
    bank_bic: str | None = Field(default=None, description="the bank's BIC, when known")


class ProviderSuspendedV1(IntegrationEvent):
    """The provider's programmes stop taking enrolments; existing enrolments continue."""

    topic: ClassVar[str] = topics.CATALOG_PROVIDER.name
    key_field: ClassVar[str] = "provider_id"

    event_type: Literal["catalog.ProviderSuspended"] = "catalog.ProviderSuspended"
    event_version: Literal[1] = 1

    provider_id: UUID
    reason: ProviderSuspendReason = Field(
        description="a reason code (v1 carried free text until 2026-12; the operator's note stays in catalog)"
    )


class AttestationExpiringV1(IntegrationEvent):
    """A coach's or facility's attestation expires soon (or has expired): the provider must renew it."""

    topic: ClassVar[str] = topics.CATALOG_PROVIDER.name
    key_field: ClassVar[str] = "provider_id"

    event_type: Literal["catalog.AttestationExpiring"] = "catalog.AttestationExpiring"
    event_version: Literal[1] = 1

    attestation_id: UUID
    provider_id: UUID
    region_code: str
    subject_type: Literal["staff", "facility"]
    subject_id: UUID
    kind: str = Field(examples=["criminal_record", "qualification", "sanitary", "fire"])
    valid_until: date
    expired: bool = Field(default=False, description="true: it has lapsed and the affected groups are suspended")


class ProgrammeSchedule(BaseModel):
    model_config = ConfigDict(frozen=True)

    weekday: int = Field(ge=1, le=7, description="ISO weekday, 1 = Monday")
    start: time
    end: time


class ProgrammePublishedV1(IntegrationEvent):
    topic: ClassVar[str] = topics.CATALOG_PROGRAMME.name
    key_field: ClassVar[str] = "programme_id"

    event_type: Literal["catalog.ProgrammePublished"] = "catalog.ProgrammePublished"
    event_version: Literal[1] = 1

    programme_id: UUID
    provider_id: UUID
    direction: str
    region_code: str
    district_code: str
    age_min: int = Field(ge=0)
    age_max: int = Field(ge=0)
    language: str
    sessions_per_month: int = Field(ge=1)
    price_per_month_tiyn: int = Field(ge=0, description="integer tiyn")
    capacity: int = Field(ge=1)
    schedule: list[ProgrammeSchedule]
    title: LocalisedName | None = Field(default=None, description="the programme's title in kk/ru/en")
    coach_ids: list[UUID] = Field(default_factory=list, description="the provider's staff who teach it (opaque ids)")
    facility_id: UUID | None = None
    facility_capacity: int | None = Field(default=None, ge=1, description="how many children the facility holds")


class ProgrammeChangedV1(ProgrammePublishedV1):
    """The programme's full current state after a change (event-carried state)."""

    event_type: Literal["catalog.ProgrammeChanged"] = "catalog.ProgrammeChanged"  # type: ignore[assignment]  # a subclass narrows the discriminator
    status: Literal["published", "suspended"] = Field(
        default="published", description="suspended: a coach's or facility's attestation lapsed; no new enrolments"
    )


class ProgrammeClosedV1(IntegrationEvent):
    """No more enrolments; the active ones were ended with reason programme_closed."""

    topic: ClassVar[str] = topics.CATALOG_PROGRAMME.name
    key_field: ClassVar[str] = "programme_id"

    event_type: Literal["catalog.ProgrammeClosed"] = "catalog.ProgrammeClosed"
    event_version: Literal[1] = 1

    programme_id: UUID
    provider_id: UUID
