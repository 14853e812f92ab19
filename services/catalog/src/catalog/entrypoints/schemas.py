"""HTTP models of the catalog API."""

from __future__ import annotations

from datetime import time
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from catalog.service_layer.models import (
    AttestationOut,
    ComplaintOut,
    ComplaintPage,
    ConsultationPointOut,
    EnrolmentOut,
    EnrolmentsExpired,
    ExpiringOut,
    FacilityOut,
    ProgrammeClosed,
    ProgrammeOut,
    ProgrammePage,
    ProgrammeQualityOut,
    ProviderOut,
    QualityOut,
    QualityPage,
    RetentionOut,
    StaffOut,
)
from qosym_chassis.inputs import MultilineText, SafeText, SaneDate
from qosym_contracts.catalog import ProviderSuspendReason
from qosym_contracts.types import REGION_CODE_PATTERN

__all__ = [
    "AttestationOut",
    "ComplaintOut",
    "ComplaintPage",
    "ConsultationPointOut",
    "EnrolmentOut",
    "EnrolmentsExpired",
    "ExpiringOut",
    "FacilityOut",
    "ProgrammeClosed",
    "ProgrammeOut",
    "ProgrammePage",
    "ProgrammeQualityOut",
    "ProviderOut",
    "QualityOut",
    "QualityPage",
    "RetentionOut",
    "StaffOut",
]


Strict = ConfigDict(extra="forbid")


def example(**body: Any) -> ConfigDict:
    """Closed to unknown fields, with one example request body for the OpenAPI document."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [body]})


SLOT = {"weekday": 2, "start": "16:00:00", "end": "17:30:00"}
TITLE = {"kk": "Хоккей", "ru": "Хоккей", "en": "Hockey"}


class Localised(BaseModel):
    model_config = Strict
    kk: MultilineText = Field(min_length=1, max_length=2000)
    ru: MultilineText = Field(min_length=1, max_length=2000)
    en: MultilineText = Field(min_length=1, max_length=2000)


class Contacts(BaseModel):
    model_config = Strict
    phone: SafeText = Field(pattern=r"^\+?[0-9 ()-]{7,20}$", examples=["+7 701 000 00 00"])
    email: SafeText | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)
    website: SafeText | None = Field(default=None, max_length=200)


class BankDetails(BaseModel):
    model_config = Strict
    bank_name: SafeText = Field(min_length=1, max_length=200)
    bik: SafeText = Field(
        min_length=1, max_length=20, examples=["HSBKKZKX"], description="the bank's BIC (ISO 9362), 8 or 11 characters"
    )
    iban: SafeText = Field(min_length=1, max_length=40, examples=["KZ86125KZT5004100100"])


class ProviderIn(BaseModel):
    model_config = example(
        bin="080540014021",
        name="Barys Hockey School",
        region_code="astana",
        district_code="yesil",
        address="Kabanbay Batyr Ave., 45",
        contacts={"phone": "+7 701 000 00 00", "email": "info@barys.kz"},
        bank={"bank_name": "Halyk Bank", "bik": "HSBKKZKX", "iban": "KZ86125KZT5004100100"},
    )
    bin: SafeText = Field(min_length=1, max_length=20, examples=["080540014021"])
    name: SafeText = Field(min_length=1, max_length=300)
    region_code: SafeText = Field(pattern=REGION_CODE_PATTERN)
    district_code: SafeText = Field(pattern=REGION_CODE_PATTERN)
    address: SafeText = Field(min_length=1, max_length=500)
    contacts: Contacts
    bank: BankDetails


class DecisionIn(BaseModel):
    model_config = example(action="suspend", reason="sanitary inspection failed", reason_code="other")
    action: Literal["verify", "reject", "suspend"]
    reason: SafeText | None = Field(
        default=None, max_length=500, description="the operator's note; it stays in catalog (status_reason)"
    )
    reason_code: ProviderSuspendReason = Field(
        default="other", description="for a suspension: the reason code ProviderSuspended carries"
    )


class SlotIn(BaseModel):
    model_config = Strict
    weekday: StrictInt = Field(ge=1, le=7, description="ISO weekday, 1 = Monday")
    start: time
    end: time


class ProgrammeFields(BaseModel):
    model_config = example(
        direction="sports",
        title=TITLE,
        description={"kk": "Жаттығу", "ru": "Тренировки", "en": "Training"},
        age_min=6,
        age_max=10,
        language="kk",
        schedule=[SLOT],
        sessions_per_month=8,
        price_per_month_tiyn=1_500_000,
        capacity=10,
        district_code="yesil",
        address="Kabanbay Batyr Ave., 45",
        lat=51.1282,
        lon=71.4304,
        coach_ids=["3f2c5c1e-8f43-4d7a-9a57-1d2f3e4a5b6c"],
    )
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
    district_code: SafeText = Field(pattern=REGION_CODE_PATTERN)
    address: SafeText = Field(min_length=1, max_length=500)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    coach_ids: list[UUID] = Field(default_factory=list, max_length=20, description="staff who lead the sessions")
    facility_id: UUID | None = None


class ProgrammeChangeIn(BaseModel):
    model_config = example(capacity=12, price_per_month_tiyn=1_200_000)
    title: Localised | None = None
    description: Localised | None = None
    age_min: StrictInt | None = Field(default=None, ge=0, le=30)
    age_max: StrictInt | None = Field(default=None, ge=0, le=30)
    language: Literal["kk", "ru", "en"] | None = None
    schedule: list[SlotIn] | None = Field(default=None, min_length=1, max_length=21)
    sessions_per_month: StrictInt | None = Field(default=None, ge=1, le=62)
    price_per_month_tiyn: StrictInt | None = Field(default=None, ge=0, le=10_000_000_000)
    capacity: StrictInt | None = Field(default=None, ge=1, le=10_000)
    address: SafeText | None = Field(default=None, min_length=1, max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    coach_ids: list[UUID] | None = Field(default=None, max_length=20)
    facility_id: UUID | None = None


class EnrolmentIn(BaseModel):
    model_config = example(
        child_id="8b1d6f0e-2c3a-4e5f-9a7b-0c1d2e3f4a5b", programme_id="5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
    )
    child_id: UUID
    programme_id: UUID


class EndIn(BaseModel):
    model_config = example(reason="we moved to another city")
    reason: SafeText = Field(
        min_length=1, max_length=200, description="shown to the family and the provider; never published"
    )


class ChangeClubIn(BaseModel):
    model_config = example(programme_id="5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", reason="prefers the evening group")
    programme_id: UUID
    reason: SafeText = Field(
        default="changed_club", min_length=1, max_length=200, description="kept with the old enrolment; never published"
    )


class StaffIn(BaseModel):
    model_config = example(full_name="Aigerim S.", iin="900101300017", role="coach")
    full_name: SafeText = Field(min_length=1, max_length=300)
    iin: SafeText = Field(min_length=1, max_length=20, description="never returned; stored encrypted")
    role: Literal["coach", "teacher", "assistant"]


class FacilityIn(BaseModel):
    model_config = example(name="Hall A", address="Kabanbay Batyr Ave., 45", capacity=30)
    name: SafeText = Field(min_length=1, max_length=300)
    address: SafeText = Field(min_length=1, max_length=500)
    capacity: StrictInt = Field(ge=1, le=10_000, description="how many children it holds at once")


class AttestationIn(BaseModel):
    model_config = example(
        subject_type="staff",
        subject_id="3f2c5c1e-8f43-4d7a-9a57-1d2f3e4a5b6c",
        kind="criminal_record",
        number="CR-2026-0042",
        valid_until="2027-06-30",
    )
    subject_type: Literal["staff", "facility"]
    subject_id: UUID
    kind: Literal["criminal_record", "qualification", "sanitary", "fire"]
    number: SafeText = Field(min_length=1, max_length=100)
    valid_until: SaneDate


ComplaintCategory = Literal[
    "safety", "teaching_quality", "attendance_records", "billing", "facility", "conduct", "other"
]


class ComplaintIn(BaseModel):
    model_config = example(
        child_id="8b1d6f0e-2c3a-4e5f-9a7b-0c1d2e3f4a5b",
        programme_id="5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
        category="safety",
        text="The hall had no working fire exit during the session.",
    )
    child_id: UUID
    programme_id: UUID
    category: ComplaintCategory
    text: MultilineText = Field(
        min_length=10, max_length=4000, description="what happened (kept in catalog, never published)"
    )


class ComplaintResolutionIn(BaseModel):
    model_config = example(outcome="upheld", resolution="The provider repaired the exit; inspected on 12 May.")
    outcome: Literal["upheld", "rejected"]
    resolution: MultilineText = Field(
        min_length=1, max_length=2000, description="what was found and done; the parent sees it"
    )
