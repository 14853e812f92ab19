"""The facts the figures are computed from, as the read model holds them (no personal data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID


@dataclass(frozen=True)
class Region:
    code: str
    name: dict[str, str]
    timezone: str
    districts: list[str]
    district_names: dict[str, dict[str, str]]
    directions: list[str]
    budget_tiyn: int
    # children of the region's child age per district, where the region file gives it (coverage per 1,000 children)
    child_population: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Child:
    district_code: str | None
    birth_year: int | None
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Application:
    application_id: UUID
    round_id: UUID | None
    child_key: str | None
    district_code: str
    direction: str
    submitted_at: datetime
    withdrawn: bool
    waitlisted: bool


@dataclass(frozen=True)
class Voucher:
    voucher_id: UUID
    application_id: UUID | None
    round_id: UUID | None
    child_key: str | None
    district_code: str
    direction: str
    monthly_value_tiyn: int
    months: int
    awarded_at: datetime
    end_kind: str | None


@dataclass(frozen=True)
class Programme:
    programme_id: UUID
    provider_id: UUID
    district_code: str
    direction: str
    capacity: int
    open: bool


@dataclass(frozen=True)
class Enrolment:
    enrolment_id: UUID
    voucher_id: UUID | None
    programme_id: UUID
    provider_id: UUID
    district_code: str
    direction: str
    confirmed_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class Timesheet:
    timesheet_id: UUID
    enrolment_id: UUID
    programme_id: UUID
    period: str
    attended_sessions: int | None
    first_attended_on: date | None
    submitted: bool
    confirmed: bool
    guardian_confirmed: bool
    disputed: bool
    resolved: bool


@dataclass(frozen=True)
class Accrual:
    provider_id: UUID
    programme_id: UUID
    period: str
    amount_tiyn: int


@dataclass(frozen=True)
class Payout:
    provider_id: UUID
    period: str
    amount_tiyn: int


@dataclass
class Facts:
    """Everything known about one region, and the time of the last event applied (the figures' freshness)."""

    region_code: str
    region: Region | None = None
    freshness: datetime | None = None
    children: dict[str, Child] = field(default_factory=dict)
    applications: list[Application] = field(default_factory=list)
    vouchers: list[Voucher] = field(default_factory=list)
    programmes: list[Programme] = field(default_factory=list)
    enrolments: list[Enrolment] = field(default_factory=list)
    timesheets: list[Timesheet] = field(default_factory=list)
    accruals: list[Accrual] = field(default_factory=list)
    payouts: list[Payout] = field(default_factory=list)
