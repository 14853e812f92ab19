"""A provider's money, read by its own staff, administrators and auditors: accruals, statement, payments."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from payments.adapters import ledger, payment_queries
from payments.adapters.payment_queries import ProviderAccrual, ProviderPayment
from payments.domain.ledger import AccountKind, account_code
from payments.service_layer import access
from payments.service_layer.dependencies import Dependencies
from payments.service_layer.paging import Page
from qosym_chassis.auth import Principal


@dataclass
class ChildMonth:
    child_id: UUID
    enrolment_id: UUID
    accrued_tiyn: int
    paid_tiyn: int
    payable_sessions: int
    planned_sessions: int


@dataclass
class Month:
    period: str
    accrued_tiyn: int = 0
    paid_tiyn: int = 0
    children: list[ChildMonth] = field(default_factory=list)


@dataclass(frozen=True)
class ProviderStatement:
    provider_id: UUID
    payable_balance_tiyn: int
    months: list[Month]


async def list_accruals(
    deps: Dependencies, caller: Principal, provider_id: UUID, period: str | None, limit: int, offset: int
) -> Page[ProviderAccrual]:
    access.check_own_provider(caller, provider_id)
    async with deps.sessions() as session:
        total, found = await payment_queries.provider_accruals(session, provider_id, period, limit, offset)
    return Page(found, total, limit, offset)


async def statement(deps: Dependencies, caller: Principal, provider_id: UUID) -> ProviderStatement:
    """Accrued and paid per month and child, and what is owed now."""
    access.check_own_provider(caller, provider_id)
    async with deps.sessions() as session:
        rows = await payment_queries.provider_months(session, provider_id)
        payable = await ledger.account(session, account_code(AccountKind.PROVIDER_PAYABLE, provider_id))
    months: dict[str, Month] = {}
    for r in rows:
        month = months.setdefault(r.period, Month(period=r.period))
        month.accrued_tiyn += r.accrued
        month.paid_tiyn += r.paid
        month.children.append(
            ChildMonth(r.child_id, r.enrolment_id, r.accrued, r.paid, r.payable_sessions, r.planned_sessions)
        )
    return ProviderStatement(provider_id, payable.balance if payable else 0, list(months.values()))


async def list_payments(
    deps: Dependencies, caller: Principal, provider_id: UUID, limit: int, offset: int
) -> Page[ProviderPayment]:
    access.check_own_provider(caller, provider_id)
    async with deps.sessions() as session:
        total, found = await payment_queries.provider_payments(session, provider_id, limit, offset)
    return Page(found, total, limit, offset)
