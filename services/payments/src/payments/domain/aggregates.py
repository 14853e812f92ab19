"""The aggregates payments keeps next to its ledger: rounds, vouchers, enrolments, their holds and months,
providers and accruals (read from its own tables)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from payments.domain.ledger import AccountKind, account_code


@dataclass(frozen=True)
class Round:
    round_id: UUID
    region_code: str
    budget_tiyn: int

    @property
    def budget_account(self) -> str:
        return account_code(AccountKind.ROUND_BUDGET, self.round_id)


@dataclass(frozen=True)
class Voucher:
    voucher_id: UUID
    round_id: UUID
    region_code: str
    child_id: UUID
    monthly_value_tiyn: int
    months: int
    valid_until: date
    requested_tiyn: int
    status: str  # funded | refused | ended

    @property
    def account(self) -> str:
        return account_code(AccountKind.VOUCHER, self.voucher_id)

    @property
    def budget_account(self) -> str:
        return account_code(AccountKind.ROUND_BUDGET, self.round_id)


@dataclass(frozen=True)
class Enrolment:
    enrolment_id: UUID
    voucher_id: UUID
    provider_id: UUID
    child_id: UUID
    programme_id: UUID
    region_code: str
    price_per_month_tiyn: int
    sessions_per_month: int
    status: str  # active | ended

    @property
    def payable_account(self) -> str:
        return account_code(AccountKind.PROVIDER_PAYABLE, self.provider_id)


@dataclass(frozen=True)
class Hold:
    transfer_id: UUID
    enrolment_id: UUID
    period: str
    seq: int
    amount_tiyn: int
    status: str  # open | posted | voided


@dataclass(frozen=True)
class Month:
    """An enrolment's month as payments has it: accrued already, its open hold, the number of its next hold."""

    accrued: bool
    open_hold: Hold | None
    next_hold_seq: int


@dataclass(frozen=True)
class Provider:
    provider_id: UUID
    bin: str
    name: str
    region_code: str
    iban: str | None
    bank_bic: str | None


@dataclass(frozen=True)
class Accrual:
    accrual_id: UUID
    enrolment_id: UUID
    period: str
    provider_id: UUID
    child_id: UUID
    voucher_id: UUID
    programme_id: UUID
    timesheet_id: UUID
    region_code: str
    amount_tiyn: int
    payable_sessions: int
    planned_sessions: int
    price_per_month_tiyn: int
    batch_id: UUID | None
    paid_at: datetime | None
    posted_at: datetime
