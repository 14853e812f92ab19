"""Rounds: a window in which applications are collected, then ranked and allocated at once.

States are explicit and only move forward: draft → open → closed → allocated. Everything a round
needs from its region (weights, voucher values, months, age band) is copied into the round when it is
created, so a later change of the region never changes a round already announced.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from allocation.domain.region import RegionConfig
from qosym_chassis.inputs import SafeText, SaneAwareDatetime, SaneDate
from qosym_contracts.types import RegionCode

Count = Annotated[StrictInt, Field(ge=0, le=10_000_000)]


class RoundState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    ALLOCATED = "allocated"


# action -> (the only state it may start from, the state it leads to)
TRANSITIONS: dict[str, tuple[RoundState, RoundState]] = {
    "open": (RoundState.DRAFT, RoundState.OPEN),
    "close": (RoundState.OPEN, RoundState.CLOSED),
    "allocate": (RoundState.CLOSED, RoundState.ALLOCATED),
}


class IllegalTransition(Exception):
    pass


def next_state(current: RoundState, action: str) -> RoundState:
    source, target = TRANSITIONS[action]
    if current != source:
        raise IllegalTransition(f"cannot {action} a round that is {current.value} (it must be {source.value})")
    return target


class RoundDraft(BaseModel):
    """What an administrator sends to create a round."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "region_code": "astana",
                    "name": "Autumn 2026",
                    "budget_tiyn": 1350000000,
                    "quotas": {"yesil": {"sports": 2, "creativity": 1}, "nura": {"sports": 1}},
                    "application_opens_at": "2026-08-01T00:00:00+05:00",
                    "application_closes_at": "2026-08-15T00:00:00+05:00",
                    "reference_date": "2026-09-01",
                    "voucher_valid_until": "2027-06-30",
                }
            ]
        },
    )

    region_code: RegionCode
    name: SafeText = Field(min_length=1, max_length=200)
    budget_tiyn: Annotated[StrictInt, Field(gt=0, le=10**15)]
    voucher_count: Annotated[StrictInt, Field(gt=0, le=10_000_000)] | None = Field(
        default=None, description="a cap on vouchers; None: budget-driven"
    )
    quotas: dict[str, dict[str, Count]] = Field(description="district -> direction -> number of vouchers")
    application_opens_at: SaneAwareDatetime
    application_closes_at: SaneAwareDatetime
    reference_date: SaneDate = Field(description="age band and categories are checked on this date")
    voucher_valid_until: SaneDate
    assignment_deadline_days: Annotated[StrictInt, Field(ge=1, le=365)] = 30
    release_grace_days: Annotated[StrictInt, Field(ge=0, le=365)] = 14

    @model_validator(mode="after")
    def _consistent(self) -> RoundDraft:
        if self.application_closes_at <= self.application_opens_at:
            raise ValueError("application_closes_at must be after application_opens_at")
        if self.voucher_valid_until <= self.reference_date:
            raise ValueError("voucher_valid_until must be after reference_date")
        if not self.quotas or not any(any(cells.values()) for cells in self.quotas.values()):
            raise ValueError("quotas must grant at least one voucher")
        return self


class RoundPolicy(BaseModel):
    """The region's rules, frozen into the round at creation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: dict[str, int]
    monthly_value_tiyn: dict[str, int]
    months: int
    age_min: int
    age_max: int

    def cost(self, direction: str) -> int:
        return self.monthly_value_tiyn[direction] * self.months


def check_against_region(draft: RoundDraft, region: RegionConfig) -> tuple[str, str] | None:
    """The first (field, message) that does not fit the region, or None."""
    districts = {d.code for d in region.districts}
    for district, cells in draft.quotas.items():
        if district not in districts:
            return f"quotas.{district}", f"unknown district of {region.code}"
        for direction in cells:
            if direction not in region.directions:
                return f"quotas.{district}.{direction}", f"unknown direction of {region.code}"
    return None


def check_what_if(
    weights: Mapping[str, int] | None,
    quotas: Mapping[str, Mapping[str, int]] | None,
    policy: RoundPolicy,
    region: RegionConfig,
) -> tuple[str, str] | None:
    """The first (field, message) of a what-if that names a category, district or direction the round lacks."""
    for code in weights or {}:
        if code not in policy.weights:
            return f"weights.{code}", f"unknown category: the round weighs {', '.join(sorted(policy.weights))}"
    districts = {d.code for d in region.districts}
    for district, cells in (quotas or {}).items():
        if district not in districts:
            return f"quotas.{district}", f"unknown district of {region.code}"
        for direction in cells:
            if direction not in policy.monthly_value_tiyn:
                return f"quotas.{district}.{direction}", "unknown direction of the round"
    return None


def policy_of(region: RegionConfig) -> RoundPolicy:
    return RoundPolicy(
        weights=dict(region.priority_weights),
        monthly_value_tiyn=dict(region.voucher.monthly_value),
        months=region.voucher.months,
        age_min=region.child_age.min,
        age_max=region.child_age.max,
    )


def age_on(birth_date: date, on: date) -> int:
    """Full years on a date (a child born on 29 February ages on 1 March in other years)."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def accepts_applications(state: RoundState, opens_at: datetime, closes_at: datetime, now: datetime) -> str | None:
    """Why a round does not accept an application now, or None."""
    if state != RoundState.OPEN:
        return f"the round is {state.value}, not open"
    if now < opens_at:
        return "the application window has not started"
    if now >= closes_at:
        return "the application window has ended"
    return None


def assign_by(awarded_on: date, deadline_days: int, valid_until: date) -> date:
    return min(awarded_on + timedelta(days=deadline_days), valid_until)
