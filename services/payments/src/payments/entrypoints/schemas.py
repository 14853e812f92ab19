"""HTTP models of the payments API. Money is integer tiyn (1 tenge = 100 tiyn); inputs are strict."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from payments.service_layer.paging import Page
from qosym_chassis.inputs import OffsetPage, SafeText, SaneAwareDatetime
from qosym_contracts.payments import TREASURY_REFERENCE_PATTERN
from qosym_contracts.types import Period, RegionCode

M = TypeVar("M", bound=BaseModel)


def out(model: type[M], value: object) -> M:
    """A use case's typed result (a dataclass) as its HTTP model."""
    return model.model_validate(value, from_attributes=True)


def paged(model: type[M], page: Page[Any]) -> OffsetPage[M]:
    """A use case's page as the chassis page model (``items``, ``total``, ``limit``, ``offset``)."""
    items = [out(model, item) for item in page.items]
    return OffsetPage[Any](items=items, total=page.total, limit=page.limit, offset=page.offset)


class RegionBudgetOut(BaseModel):
    region_code: str = Field(examples=["astana"])
    revision: int
    budget_tiyn: int = Field(examples=[250000000000])
    voucher_monthly_value_tiyn: dict[str, int] = Field(examples=[{"sports": 1500000, "creativity": 1200000}])
    voucher_months: int = Field(examples=[9])
    max_vouchers_by_direction: dict[str, int] = Field(
        description="per direction: budget_tiyn // (monthly value × months), if the whole budget went to it",
        examples=[{"sports": 18518, "creativity": 23148}],
    )


class RoundBudgetOut(BaseModel):
    round_id: UUID
    region_code: str
    budget_tiyn: int = Field(description="appropriated from the treasury when the round opened")
    available_tiyn: int = Field(description="left in the round's budget account")
    committed_tiyn: int = Field(description="funded into vouchers, net of returns")
    held_tiyn: int = Field(description="held on the round's vouchers for months not yet confirmed")
    spent_tiyn: int = Field(description="posted to providers")
    vouchers_funded: int
    vouchers_refused: int
    latest_period: str | None
    burn_per_month_tiyn: int = Field(description="accruals of the latest month that has any")
    school_year_ends: str = Field(description="the last month of the school year (YYYY-MM)")
    forecast_tiyn: int = Field(description="spent + burn × the months left to the end of the school year")
    thresholds_reached: list[int]


class RegionBurnOut(BaseModel):
    region_code: str
    budget_tiyn: int
    committed_tiyn: int
    spent_tiyn: int
    forecast_tiyn: int
    rounds: list[RoundBudgetOut]


class RefusalOut(BaseModel):
    voucher_id: UUID
    requested_tiyn: int
    available_tiyn: int
    refused_at: datetime


class PrepareBatchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"region_code": "astana", "period": "2026-11"}]}
    )

    region_code: RegionCode
    period: Period


class BatchItemOut(BaseModel):
    item_id: UUID
    provider_id: UUID
    amount_tiyn: int
    accruals: int
    end_to_end_id: str
    treasury_reference: str | None
    paid_at: datetime | None


class BatchSummaryOut(BaseModel):
    batch_id: UUID
    region_code: str
    period: str
    status: str = Field(examples=["prepared", "approved", "paid", "cancelled"])
    prepared_by: str
    approved_by: str | None
    providers: int
    total_tiyn: int
    prepared_at: datetime
    order_sha256: str | None = Field(description="sha256 of the pain.001 payment order file, once approved")


class BatchOut(BatchSummaryOut):
    approved_at: datetime | None
    paid_at: datetime | None
    items: list[BatchItemOut] = Field(default_factory=list)
    held_back_providers: list[UUID] = Field(
        default_factory=list, description="providers with payables left out: no valid bank details (IBAN)"
    )


class TreasuryConfirmationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"treasury_reference": "TRS-2026-12-000123", "paid_at": "2026-12-05T10:00:00+05:00"}]
        },
    )

    treasury_reference: SafeText = Field(
        min_length=1,
        max_length=100,
        pattern=TREASURY_REFERENCE_PATTERN,
        examples=["TRS-2026-12-000123"],
        description="the treasury statement's reference (letters, digits and - _ / . only; it is published)",
    )
    paid_at: SaneAwareDatetime


class ConfirmationOut(BaseModel):
    confirmed: int = Field(description="payments confirmed now (ProviderPaid published)")
    already_confirmed: int = Field(description="payments confirmed before (a re-import changes nothing)")
    batches_paid: list[UUID]


class AccrualOut(BaseModel):
    accrual_id: UUID
    period: str
    child_id: UUID
    enrolment_id: UUID
    programme_id: UUID
    voucher_id: UUID
    amount_tiyn: int
    payable_sessions: int
    planned_sessions: int
    price_per_month_tiyn: int
    status: str = Field(examples=["accrued", "in_batch", "paid"])
    batch_id: UUID | None
    paid_at: datetime | None
    treasury_reference: str | None
    posted_at: datetime


class ChildMonthOut(BaseModel):
    child_id: UUID
    enrolment_id: UUID
    accrued_tiyn: int
    paid_tiyn: int
    payable_sessions: int
    planned_sessions: int


class MonthOut(BaseModel):
    period: str
    accrued_tiyn: int
    paid_tiyn: int
    children: list[ChildMonthOut]


class ProviderStatementOut(BaseModel):
    provider_id: UUID
    payable_balance_tiyn: int = Field(description="accrued and not yet paid out")
    months: list[MonthOut]


class PaymentOut(BaseModel):
    batch_id: UUID
    region_code: str
    period: str
    amount_tiyn: int
    status: str
    treasury_reference: str | None
    paid_at: datetime | None


class ParkedOut(BaseModel):
    id: int
    waiting_for: str
    event_id: UUID
    event_type: str
    topic: str
    parked_at: datetime


class FindingOut(BaseModel):
    check: str = Field(examples=["balance_equals_entries"])
    subject: str
    detail: str


class ReconciliationOut(BaseModel):
    region_code: str | None
    periods: list[str]
    checked_at: datetime
    checks: list[str]
    findings: list[FindingOut]
