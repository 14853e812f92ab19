"""HTTP models of the catalog API."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class ConsultationPointOut(BaseModel):
    region_code: str = Field(examples=["astana"])
    district: str = Field(examples=["yesil"])
    name: str = Field(examples=["Art School No. 2"])
    address: str = Field(examples=["Dostyk St., 13"])
    opening_days: list[str] = Field(examples=[["saturday", "sunday"]])


CODE = r"^[a-z][a-z0-9_-]{1,63}$"
Strict = ConfigDict(extra="forbid")


class Localised(BaseModel):
    model_config = Strict
    kk: str = Field(min_length=1, max_length=2000)
    ru: str = Field(min_length=1, max_length=2000)
    en: str = Field(min_length=1, max_length=2000)


class Contacts(BaseModel):
    model_config = Strict
    phone: str = Field(pattern=r"^\+?[0-9 ()-]{7,20}$", examples=["+7 701 000 00 00"])
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)
    website: str | None = Field(default=None, max_length=200)


class BankDetails(BaseModel):
    model_config = Strict
    bank_name: str = Field(min_length=1, max_length=200)
    bik: str = Field(pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$", examples=["HSBKKZKX"])
    iban: str = Field(min_length=1, max_length=40, examples=["KZ86125KZT5004100100"])


class ProviderIn(BaseModel):
    model_config = Strict
    bin: str = Field(min_length=1, max_length=20, examples=["080540014021"])
    name: str = Field(min_length=1, max_length=300)
    region_code: str = Field(pattern=CODE)
    district_code: str = Field(pattern=CODE)
    address: str = Field(min_length=1, max_length=500)
    contacts: Contacts
    bank: BankDetails


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


class DecisionIn(BaseModel):
    model_config = Strict
    action: Literal["verify", "reject", "suspend"]
    reason: str | None = Field(default=None, max_length=500)


class SlotIn(BaseModel):
    model_config = Strict
    weekday: StrictInt = Field(ge=1, le=7, description="ISO weekday, 1 = Monday")
    start: time
    end: time


class ProgrammeFields(BaseModel):
    model_config = Strict
    direction: Literal["sports", "creativity", "intellectual"]
    title: Localised
    description: Localised
    age_min: StrictInt = Field(ge=0, le=30)
    age_max: StrictInt = Field(ge=0, le=30)
    language: Literal["kk", "ru", "en"]
    schedule: list[SlotIn] = Field(min_length=1, max_length=21)
    sessions_per_month: StrictInt = Field(ge=1, le=62)
    price_per_month_tiyn: StrictInt = Field(ge=0, le=10_000_000_000, description="integer tiyn (1 ₸ = 100)")
    capacity: StrictInt = Field(ge=1, le=10_000)
    district_code: str = Field(pattern=CODE)
    address: str = Field(min_length=1, max_length=500)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    coach_ids: list[UUID] = Field(default_factory=list, max_length=20, description="staff who lead the sessions")
    facility_id: UUID | None = None


class ProgrammeChangeIn(BaseModel):
    model_config = Strict
    title: Localised | None = None
    description: Localised | None = None
    age_min: StrictInt | None = Field(default=None, ge=0, le=30)
    age_max: StrictInt | None = Field(default=None, ge=0, le=30)
    language: Literal["kk", "ru", "en"] | None = None
    schedule: list[SlotIn] | None = Field(default=None, min_length=1, max_length=21)
    sessions_per_month: StrictInt | None = Field(default=None, ge=1, le=62)
    price_per_month_tiyn: StrictInt | None = Field(default=None, ge=0, le=10_000_000_000)
    capacity: StrictInt | None = Field(default=None, ge=1, le=10_000)
    address: str | None = Field(default=None, min_length=1, max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    coach_ids: list[UUID] | None = Field(default=None, max_length=20)
    facility_id: UUID | None = None


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


class ProgrammePage(BaseModel):
    items: list[ProgrammeOut]
    total: int
    limit: int
    offset: int


class EnrolmentIn(BaseModel):
    model_config = Strict
    child_id: UUID
    programme_id: UUID


class EndIn(BaseModel):
    model_config = Strict
    reason: str = Field(min_length=1, max_length=200)


class ChangeClubIn(BaseModel):
    model_config = Strict
    programme_id: UUID
    reason: str = Field(default="changed_club", min_length=1, max_length=200)


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


class StaffIn(BaseModel):
    model_config = Strict
    full_name: str = Field(min_length=1, max_length=300)
    iin: str = Field(min_length=1, max_length=20, description="never returned; stored encrypted")
    role: Literal["coach", "teacher", "assistant"]


class StaffOut(BaseModel):
    id: UUID
    full_name: str
    role: str
    iin_masked: str


class FacilityIn(BaseModel):
    model_config = Strict
    name: str = Field(min_length=1, max_length=300)
    address: str = Field(min_length=1, max_length=500)
    capacity: StrictInt = Field(ge=1, le=10_000, description="how many children it holds at once")


class FacilityOut(BaseModel):
    id: UUID
    name: str
    address: str
    capacity: int | None = Field(description="null for a facility recorded before capacities were required")


class AttestationIn(BaseModel):
    model_config = Strict
    subject_type: Literal["staff", "facility"]
    subject_id: UUID
    kind: Literal["criminal_record", "qualification", "sanitary", "fire"]
    number: str = Field(min_length=1, max_length=100)
    valid_until: date


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


ComplaintCategory = Literal[
    "safety", "teaching_quality", "attendance_records", "billing", "facility", "conduct", "other"
]


class ComplaintIn(BaseModel):
    model_config = Strict
    child_id: UUID
    programme_id: UUID
    category: ComplaintCategory
    text: str = Field(min_length=10, max_length=4000, description="what happened (kept in catalog, never published)")


class ComplaintResolutionIn(BaseModel):
    model_config = Strict
    outcome: Literal["upheld", "rejected"]
    resolution: str = Field(min_length=1, max_length=2000, description="what was found and done; the parent sees it")


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


class ComplaintPage(BaseModel):
    items: list[ComplaintOut]
    total: int
    limit: int
    offset: int


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


class QualityPage(BaseModel):
    items: list[ProgrammeQualityOut]
    total: int
    limit: int
    offset: int
