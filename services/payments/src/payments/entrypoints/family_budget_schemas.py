"""The family budget's HTTP models (integer tiyn)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from payments.domain.family_budget import EnrolmentBudget, FamilyBudget, MonthLine, Projection


class MonthLineOut(BaseModel):
    period: str
    monthly_value_tiyn: int = Field(description="the voucher's monthly value")
    price_per_month_tiyn: int = Field(description="the programme's price")
    covered_tiyn: int = Field(description="what the voucher covers: min(price, monthly value)")
    co_payment_tiyn: int = Field(description="what the family owes the provider: price − covered, never below 0")
    accrued_tiyn: int | None = Field(description="what the ledger accrued for the month (None: not yet accrued)")
    payable_sessions: int | None
    planned_sessions: int | None


class ProjectionOut(BaseModel):
    months: int = Field(description="months of the vouchers left, this month included (summed over enrolments)")
    covered_tiyn: int
    co_payment_tiyn: int
    total_tiyn: int


class EnrolmentBudgetOut(BaseModel):
    enrolment_id: UUID
    child_id: UUID
    programme_id: UUID
    provider_id: UUID
    voucher_id: UUID
    status: str
    monthly_value_tiyn: int
    price_per_month_tiyn: int
    covered_tiyn: int
    co_payment_tiyn: int
    current: MonthLineOut | None = Field(description="this month (None outside the enrolment's months)")
    history: list[MonthLineOut] = Field(description="the past months, oldest first")
    projection: ProjectionOut = Field(description="this month to the voucher's last month (0 once ended)")


class ChildBudgetOut(BaseModel):
    child_id: UUID
    enrolments: list[EnrolmentBudgetOut]


class FamilyBudgetOut(BaseModel):
    guardian_id: UUID
    period: str = Field(description="this month")
    children: list[ChildBudgetOut]
    projection: ProjectionOut = Field(description="the rest of the school year for all the children")


class ProviderBudgetOut(BaseModel):
    provider_id: UUID
    period: str = Field(description="this month")
    enrolments: list[EnrolmentBudgetOut]


def _line(line: MonthLine) -> MonthLineOut:
    return MonthLineOut(
        period=line.period,
        monthly_value_tiyn=line.split.monthly_value_tiyn,
        price_per_month_tiyn=line.split.price_per_month_tiyn,
        covered_tiyn=line.split.covered_tiyn,
        co_payment_tiyn=line.split.co_payment_tiyn,
        accrued_tiyn=line.accrued_tiyn,
        payable_sessions=line.payable_sessions,
        planned_sessions=line.planned_sessions,
    )


def _projection(p: Projection) -> ProjectionOut:
    return ProjectionOut(
        months=p.months, covered_tiyn=p.covered_tiyn, co_payment_tiyn=p.co_payment_tiyn, total_tiyn=p.total_tiyn
    )


def enrolment_out(b: EnrolmentBudget) -> EnrolmentBudgetOut:
    t = b.terms
    return EnrolmentBudgetOut(
        enrolment_id=t.enrolment_id,
        child_id=t.child_id,
        programme_id=t.programme_id,
        provider_id=t.provider_id,
        voucher_id=t.voucher_id,
        status=t.status,
        monthly_value_tiyn=b.split.monthly_value_tiyn,
        price_per_month_tiyn=b.split.price_per_month_tiyn,
        covered_tiyn=b.split.covered_tiyn,
        co_payment_tiyn=b.split.co_payment_tiyn,
        current=_line(b.current) if b.current else None,
        history=[_line(m) for m in b.history],
        projection=_projection(b.projection),
    )


def family_out(f: FamilyBudget) -> FamilyBudgetOut:
    return FamilyBudgetOut(
        guardian_id=f.guardian_id,
        period=f.period,
        children=[
            ChildBudgetOut(child_id=c.child_id, enrolments=[enrolment_out(b) for b in c.enrolments]) for c in f.children
        ],
        projection=_projection(f.projection),
    )


def provider_out(provider_id: UUID, period: str, budgets: list[EnrolmentBudget]) -> ProviderBudgetOut:
    return ProviderBudgetOut(provider_id=provider_id, period=period, enrolments=[enrolment_out(b) for b in budgets])
