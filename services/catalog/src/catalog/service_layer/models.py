"""What catalog's use cases return: typed results (the HTTP layer serves them as they are).

docs/architecture.md, "Service anatomy": use cases return typed models, never rows or dicts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from qosym_chassis.inputs import OffsetPage


class ConsultationPointOut(BaseModel):
    region_code: str = Field(examples=["astana"])
    district: str = Field(examples=["yesil"])
    name: str = Field(examples=["Art School No. 2"])
    address: str = Field(examples=["Dostyk St., 13"])
    opening_days: list[str] = Field(examples=[["saturday", "sunday"]])


class ProviderOut(BaseModel):
    id: UUID
    bin: str
    name: str
    region_code: str
    district_code: str
    address: str
    contacts: dict[str, Any]
    bank: dict[str, Any]
    status: Literal["pending", "verified", "rejected", "suspended"]
    status_reason: str | None


class RetentionOut(BaseModel):
    cohort: int = Field(description="enrolments confirmed long enough ago to be counted")
    retained: int = Field(description="of those, still enrolled through that month and attending in it")
    rate: float | None = Field(description="retained / cohort, three decimals; null while the cohort is empty")


class QualityOut(BaseModel):
    """Provider quality signals of a programme (definitions in the catalog README)."""

    retention_2m: RetentionOut
    retention_3m: RetentionOut
    timesheets_submitted: int
    timesheets_disputed: int
    dispute_rate: float | None = Field(description="disputed / submitted timesheets; null before any timesheet")
    complaints: int
    complaints_open: int


class RatingsOut(BaseModel):
    """Guardians' ratings of a programme (1-5), shown only from 5 visible ratings on."""

    count: int
    mean: float = Field(description="two decimals")
    distribution: dict[str, int] = Field(description="visible ratings per star, '1' to '5'")


class ReviewOut(BaseModel):
    id: UUID
    programme_id: UUID
    provider_id: UUID
    enrolment_id: UUID
    rating: int
    text: str
    status: Literal["visible", "hidden"]
    hidden_reason: str | None = None
    hidden_by: str | None = None
    hidden_at: datetime | None = None
    answer: str | None = Field(default=None, description="the provider's public answer (once)")
    answered_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    editable_until: datetime


class PublicReviewOut(BaseModel):
    """A visible review as anyone reads it: no child, guardian or enrolment id."""

    id: UUID
    rating: int
    text: str
    answer: str | None = None
    answered_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


PublicReviewPage = OffsetPage[PublicReviewOut]


class ProgrammeOut(BaseModel):
    id: UUID
    provider_id: UUID
    provider_name: str | None = None
    status: Literal["published", "suspended", "closed"]
    direction: str
    title: dict[str, str]
    description: dict[str, str]
    age_min: int
    age_max: int
    language: str
    schedule: list[dict[str, Any]]
    sessions_per_month: int
    price_per_month_tiyn: int
    capacity: int
    free_seats: int
    region_code: str
    district_code: str
    address: str
    lat: float
    lon: float
    distance_km: float | None = None
    facility_id: UUID | None = None
    quality: QualityOut | None = Field(default=None, description="in the public search and programme page")
    ratings: RatingsOut | None = Field(
        default=None, description="in the public search and programme page; null below 5 visible ratings"
    )


ProgrammePage = OffsetPage[ProgrammeOut]
"""The page model every catalog collection uses (``qosym_chassis.inputs.OffsetPage``)."""


class EnrolmentOut(BaseModel):
    id: UUID
    programme_id: UUID
    provider_id: UUID
    child_id: UUID
    status: Literal["requested", "confirmed", "rejected", "ended"]
    reason: str | None = Field(description="why it was rejected or ended (shown to the parent)")
    voucher_id: UUID | None
    requested_at: datetime
    confirmed_at: datetime | None
    ended_at: datetime | None


class StaffOut(BaseModel):
    id: UUID
    full_name: str
    role: str
    iin_masked: str


class FacilityOut(BaseModel):
    id: UUID
    name: str
    address: str
    capacity: int | None = Field(description="null for a facility recorded before capacities were required")


class AttestationOut(BaseModel):
    id: UUID
    subject_type: str
    subject_id: UUID
    kind: str
    number: str
    valid_until: date


class ExpiringOut(BaseModel):
    subject_type: str
    subject_id: UUID
    name: str
    kind: str
    valid_until: date
    expired: bool


class ComplaintOut(BaseModel):
    id: UUID
    programme_id: UUID
    provider_id: UUID
    child_id: UUID
    region_code: str
    district_code: str
    filed_by: str = Field(description="the guardian's person id")
    category: str
    text: str
    status: Literal["open", "resolved"]
    outcome: Literal["upheld", "rejected"] | None
    resolution: str | None
    created_at: datetime
    resolved_at: datetime | None


ComplaintPage = OffsetPage[ComplaintOut]
"""The page model every catalog collection uses (``qosym_chassis.inputs.OffsetPage``)."""


class ProgrammeQualityOut(BaseModel):
    programme_id: UUID
    provider_id: UUID
    provider_name: str
    status: str
    direction: str
    title: dict[str, str]
    district_code: str
    capacity: int
    free_seats: int
    quality: QualityOut


QualityPage = OffsetPage[ProgrammeQualityOut]
"""The page model every catalog collection uses (``qosym_chassis.inputs.OffsetPage``)."""


class ProgrammeClosed(BaseModel):
    enrolments_ended: int = Field(description="active enrolments ended because the programme closed")


class EnrolmentsExpired(BaseModel):
    expired: int = Field(description="confirmed enrolments never attended that ended now")
