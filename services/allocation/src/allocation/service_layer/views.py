"""What allocation's use cases return: the typed models the routes answer with (docs/architecture.md,
"Service anatomy")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from allocation.adapters.application_repository import ApplicationRow
from allocation.adapters.round_repository import RoundRow
from allocation.adapters.voucher_repository import VoucherRow
from allocation.domain.region import RegionConfig
from allocation.domain.rounds import RoundState

# --- regions and children ---------------------------------------------------------------------------


class RegionOut(BaseModel):
    revision: int
    config: RegionConfig


class RegionApplied(BaseModel):
    region: RegionOut
    created: bool
    changed: bool


class CategoryOut(BaseModel):
    code: str
    valid_from: date
    valid_until: date | None


class ChildOut(BaseModel):
    child_id: UUID
    birth_date: date
    sex: str
    region_code: str
    district_code: str
    registered_at: datetime
    verified_categories: list[CategoryOut] = []


# --- rounds -----------------------------------------------------------------------------------------


class RoundOut(BaseModel):
    round_id: UUID
    region_code: str
    name: str
    state: RoundState
    budget_tiyn: int
    spent_tiyn: int
    voucher_count: int | None
    awarded_count: int
    quotas: dict[str, dict[str, int]]
    voucher_cost_tiyn: dict[str, int]
    application_opens_at: datetime
    application_closes_at: datetime
    reference_date: date
    voucher_valid_until: date
    age_min: int
    age_max: int
    priority_weights: dict[str, int]
    seed_sha256: str
    seed_hex: str | None = Field(description="revealed once applications are closed")
    result: dict[str, Any] | None

    @classmethod
    def of(cls, r: RoundRow) -> RoundOut:
        revealed = r.state in (RoundState.CLOSED, RoundState.ALLOCATED)
        return cls(
            round_id=r.round_id,
            region_code=r.region_code,
            name=r.name,
            state=r.state,
            budget_tiyn=r.budget_tiyn,
            spent_tiyn=r.spent_tiyn,
            voucher_count=r.voucher_count,
            awarded_count=r.awarded_count,
            quotas=r.quotas,
            voucher_cost_tiyn={d: r.policy.cost(d) for d in r.policy.monthly_value_tiyn},
            application_opens_at=r.application_opens_at,
            application_closes_at=r.application_closes_at,
            reference_date=r.reference_date,
            voucher_valid_until=r.voucher_valid_until,
            age_min=r.policy.age_min,
            age_max=r.policy.age_max,
            priority_weights=r.policy.weights,
            seed_sha256=r.seed_sha256,
            seed_hex=r.seed.hex() if revealed else None,
            result=r.result,
        )


class AllocationSummary(BaseModel):
    awarded: int
    awarded_by_quota_flow: int
    waitlisted: int
    spent_tiyn: int
    budget_tiyn: int


class PublishedEntry(BaseModel):
    public_id: UUID
    rank: int
    score: int
    lottery_number: str
    district_code: str
    direction: str
    outcome: str = Field(description="now: awarded, waitlisted, or offered_from_waitlist (a returned voucher)")
    via: str | None = Field(description="how the allocation awarded it (quota or flow)")
    waitlist_position: int | None = Field(description="now: the place in its district × direction queue")
    allocated_outcome: str = Field(description="what the allocation decided (qosym lottery verify re-computes it)")
    allocated_waitlist_position: int | None = Field(description="the place the allocation gave")


class PublishedList(BaseModel):
    round_id: UUID
    region_code: str
    seed_sha256: str
    seed_hex: str
    budget_tiyn: int
    voucher_count: int | None
    voucher_cost_tiyn: dict[str, int]
    quotas: dict[str, dict[str, int]]
    entries: list[PublishedEntry]


class Simulation(BaseModel):
    round_id: UUID
    applications: int
    awarded_now: int
    awarded_simulated: int
    spent_simulated_tiyn: int
    gain: int
    lose: int
    by_district: dict[str, dict[str, int]]
    by_category: dict[str, dict[str, int]]


# --- applications and vouchers ----------------------------------------------------------------------


class VoucherOut(BaseModel):
    voucher_id: UUID
    round_id: UUID
    child_id: UUID
    direction: str
    monthly_value_tiyn: int
    months: int
    valid_until: date
    assign_by: date
    status: str
    reassignable_until: date | None
    status_reason: str | None = Field(
        default=None, description="why it was revoked (a reason code); the administrator's note is not shown"
    )


class ApplicationOut(BaseModel):
    application_id: UUID
    round_id: UUID
    child_id: UUID
    district_code: str
    direction: str
    status: str
    submitted_at: datetime
    score: int | None
    lottery_number: str | None
    rank: int | None
    waitlist_position: int | None
    voucher: VoucherOut | None

    @classmethod
    def of(cls, row: ApplicationRow, position: int | None = None, voucher: VoucherRow | None = None) -> ApplicationOut:
        return cls(
            application_id=row.application_id,
            round_id=row.round_id,
            child_id=row.child_id,
            district_code=row.district_code,
            direction=row.direction,
            status=row.status,
            submitted_at=row.submitted_at,
            score=row.score,
            lottery_number=row.lottery,
            rank=row.rank,
            waitlist_position=position,
            voucher=VoucherOut.model_validate(voucher, from_attributes=True) if voucher else None,
        )


class CategoryWeight(BaseModel):
    category: str
    weight: int


class NotCounted(BaseModel):
    category: str
    reason: str


class Cutoff(BaseModel):
    rank: int
    score: int
    lottery: str


class Explanation(BaseModel):
    application_id: UUID
    status: str
    score: int
    score_breakdown: list[CategoryWeight]
    not_counted: list[NotCounted]
    reference_date: date
    lottery_number: str | None
    rank: int | None
    district_code: str
    direction: str
    quota: int
    cutoff: Cutoff | None
    outcome: str | None
    via: str | None
    waitlist_position: int | None
    why: str


class ReOffered(BaseModel):
    re_offered: int = Field(description="how many places were offered to waitlisted applications")


class Swept(BaseModel):
    expired: int = Field(description="vouchers that expired (or whose release grace ended) and went back")
