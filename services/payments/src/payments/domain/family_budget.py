"""What a family pays each month: the split of a programme's price between the voucher and the family.

One rule for both readers (the family, the provider's staff): the voucher covers ``min(price, monthly value)``,
the rest of the price is the co-payment the family owes the provider directly (never negative). The accrual is
what the ledger paid for the month (the accrual rule of domain/accrual.py), shown beside the split, not
recomputed. The projection multiplies the current split by the months left of the voucher. Integer tiyn only."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from payments.domain.periods import month_index


@dataclass(frozen=True)
class Split:
    monthly_value_tiyn: int
    price_per_month_tiyn: int
    covered_tiyn: int
    co_payment_tiyn: int


def split(price_per_month_tiyn: int, monthly_value_tiyn: int) -> Split:
    """What the voucher covers of a month's price, and what the family pays the provider on top."""
    if price_per_month_tiyn < 0 or monthly_value_tiyn < 0:
        raise ValueError("money is never negative")
    covered = min(price_per_month_tiyn, monthly_value_tiyn)
    return Split(monthly_value_tiyn, price_per_month_tiyn, covered, max(0, price_per_month_tiyn - covered))


@dataclass(frozen=True)
class Posted:
    """A month the ledger accrued (one accrual per enrolment and period)."""

    period: str
    amount_tiyn: int
    payable_sessions: int
    planned_sessions: int


@dataclass(frozen=True)
class EnrolmentTerms:
    enrolment_id: UUID
    child_id: UUID
    programme_id: UUID
    provider_id: UUID
    voucher_id: UUID
    status: str
    monthly_value_tiyn: int
    price_per_month_tiyn: int
    first_period: str
    ended_period: str | None
    last_voucher_period: str
    """The month of the voucher's ``valid_until``."""
    posted: tuple[Posted, ...] = ()


@dataclass(frozen=True)
class MonthLine:
    period: str
    split: Split
    accrued_tiyn: int | None
    """None while the month is not accrued (not yet confirmed, disputed, or still running)."""
    payable_sessions: int | None
    planned_sessions: int | None


@dataclass(frozen=True)
class Projection:
    months: int
    covered_tiyn: int
    co_payment_tiyn: int

    @property
    def total_tiyn(self) -> int:
        return self.covered_tiyn + self.co_payment_tiyn


@dataclass(frozen=True)
class EnrolmentBudget:
    terms: EnrolmentTerms
    split: Split
    current: MonthLine | None
    """This month (None once the enrolment has ended before it, or before it starts)."""
    history: list[MonthLine]
    """The past months of the enrolment, oldest first."""
    projection: Projection
    """From this month to the voucher's last month, for an active enrolment (nothing for an ended one)."""


def _period(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def enrolment_budget(terms: EnrolmentTerms, current_period: str) -> EnrolmentBudget:
    """The split, this month, the past months (with what the ledger accrued) and the projection of one enrolment."""
    money = split(terms.price_per_month_tiyn, terms.monthly_value_tiyn)
    posted = {p.period: p for p in terms.posted}
    now = month_index(current_period)
    first = month_index(terms.first_period)
    last = min(month_index(terms.ended_period or terms.last_voucher_period), month_index(terms.last_voucher_period))

    def line(index: int) -> MonthLine:
        p = posted.get(_period(index))
        return MonthLine(
            _period(index),
            money,
            p.amount_tiyn if p else None,
            p.payable_sessions if p else None,
            p.planned_sessions if p else None,
        )

    history = [line(i) for i in range(first, min(now, last + 1))]
    current = line(now) if first <= now <= last else None
    months = max(0, last - max(now, first) + 1) if terms.status == "active" else 0
    projection = Projection(months, money.covered_tiyn * months, money.co_payment_tiyn * months)
    return EnrolmentBudget(terms, money, current, history, projection)


@dataclass(frozen=True)
class ChildBudget:
    child_id: UUID
    enrolments: list[EnrolmentBudget]


@dataclass(frozen=True)
class FamilyBudget:
    guardian_id: UUID
    period: str
    children: list[ChildBudget] = field(default_factory=list)
    projection: Projection = Projection(0, 0, 0)
    """The school year's rest for all the children: the sum of their enrolments' projections."""


def total(projections: list[Projection]) -> Projection:
    return Projection(
        sum(p.months for p in projections),
        sum(p.covered_tiyn for p in projections),
        sum(p.co_payment_tiyn for p in projections),
    )


def family_budget(guardian_id: UUID, current_period: str, enrolments: list[EnrolmentTerms]) -> FamilyBudget:
    """Per child (in the order given) its enrolments' budgets, and the year's projection for them all."""
    children: dict[UUID, list[EnrolmentBudget]] = {}
    for terms in enrolments:
        children.setdefault(terms.child_id, []).append(enrolment_budget(terms, current_period))
    found = [ChildBudget(child, budgets) for child, budgets in children.items()]
    return FamilyBudget(
        guardian_id,
        current_period,
        found,
        total([b.projection for child in found for b in child.enrolments]),
    )
