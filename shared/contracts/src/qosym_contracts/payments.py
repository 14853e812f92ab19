"""Events published by the payments service (owned by the payments developers).

Amounts are integer tiyn (1 ₸ = 100 tiyn). Ids are opaque; no personal data.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from qosym_contracts import topics
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.types import Period

TREASURY_REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,99}$"


class PaymentAccruedV1(IntegrationEvent):
    """A month's payable amount was posted to the provider's payable account (the rest of the hold was voided)."""

    topic: ClassVar[str] = topics.PAYMENTS_PAYABLE.name
    key_field: ClassVar[str] = "provider_id"

    event_type: Literal["payments.PaymentAccrued"] = "payments.PaymentAccrued"
    event_version: Literal[1] = 1

    accrual_id: UUID = Field(description="the ledger transfer that posted it")
    provider_id: UUID
    enrolment_id: UUID
    child_id: UUID
    voucher_id: UUID
    programme_id: UUID
    timesheet_id: UUID
    region_code: str
    period: Period
    amount_tiyn: int = Field(ge=0)
    payable_sessions: int = Field(ge=0)
    planned_sessions: int = Field(ge=0)
    price_per_month_tiyn: int = Field(ge=0)


class ProviderPaidV1(IntegrationEvent):
    """The treasury confirmed the transfer of a batch's amount to the provider's bank account."""

    topic: ClassVar[str] = topics.PAYMENTS_PAYABLE.name
    key_field: ClassVar[str] = "provider_id"

    event_type: Literal["payments.ProviderPaid"] = "payments.ProviderPaid"
    event_version: Literal[1] = 1

    batch_id: UUID
    provider_id: UUID
    region_code: str
    period: Period
    amount_tiyn: int = Field(gt=0)
    paid_at: AwareDatetime
    treasury_reference: str = Field(
        max_length=100,
        pattern=TREASURY_REFERENCE_PATTERN,
        description="the treasury statement's reference for the transfer (letters, digits and - _ / . only)",
    )


class PaymentBatchApprovedV1(IntegrationEvent):
    """A batch was approved by its checker (a different person from its maker); its payment order file exists."""

    topic: ClassVar[str] = topics.PAYMENTS_BATCH.name
    key_field: ClassVar[str] = "batch_id"

    event_type: Literal["payments.PaymentBatchApproved"] = "payments.PaymentBatchApproved"
    event_version: Literal[1] = 1

    batch_id: UUID
    region_code: str
    period: Period
    providers: int = Field(ge=1)
    total_tiyn: int = Field(gt=0)
    order_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hash of the pain.001 payment order file")
    prepared_by: UUID = Field(description="the maker's staff account id (the token's subject), never a username")
    approved_by: UUID = Field(description="the checker's staff account id (the token's subject), never a username")


class BudgetThresholdReachedV1(IntegrationEvent):
    """A round's committed money crossed a configured share of its budget."""

    topic: ClassVar[str] = topics.PAYMENTS_BUDGET.name
    key_field: ClassVar[str] = "round_id"

    event_type: Literal["payments.BudgetThresholdReached"] = "payments.BudgetThresholdReached"
    event_version: Literal[1] = 1

    round_id: UUID
    region_code: str
    threshold_percent: int = Field(ge=1, le=100)
    budget_tiyn: int = Field(ge=0)
    committed_tiyn: int = Field(ge=0, description="funded into vouchers (not yet returned)")
    spent_tiyn: int = Field(ge=0, description="posted to providers")
    forecast_tiyn: int = Field(ge=0, description="projected spend by the end of the school year at the current burn")


class VoucherFundingRefusedV1(IntegrationEvent):
    """A VoucherAwarded could not be funded: the round's budget would go below zero. Nothing was posted."""

    topic: ClassVar[str] = topics.PAYMENTS_BUDGET.name
    key_field: ClassVar[str] = "round_id"

    event_type: Literal["payments.VoucherFundingRefused"] = "payments.VoucherFundingRefused"
    event_version: Literal[1] = 1

    round_id: UUID
    voucher_id: UUID
    region_code: str
    requested_tiyn: int = Field(gt=0)
    available_tiyn: int = Field(ge=0)
