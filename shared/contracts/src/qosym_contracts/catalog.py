"""Events published by the catalog service (owned by the catalog developers)."""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from qosym_contracts import topics
from qosym_contracts.envelope import IntegrationEvent


class EnrolmentRequestedV1(IntegrationEvent):
    """A seat is reserved for a child in a programme; allocation answers with VoucherAssigned or a rejection."""

    topic: ClassVar[str] = topics.CATALOG_ENROLMENT.name
    key_field: ClassVar[str] = "enrolment_id"

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


class EnrolmentEndedV1(IntegrationEvent):
    """The child left the programme (or the reservation lapsed); its voucher is released."""

    topic: ClassVar[str] = topics.CATALOG_ENROLMENT.name
    key_field: ClassVar[str] = "enrolment_id"

    event_type: Literal["catalog.EnrolmentEnded"] = "catalog.EnrolmentEnded"
    event_version: Literal[1] = 1

    enrolment_id: UUID
    child_id: UUID
    reason: str = Field(default="left", max_length=200, examples=["left", "reservation_expired", "programme_closed"])
