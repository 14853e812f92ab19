"""Payments HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from payments.bootstrap import Payments
from payments.entrypoints.schemas import RegionBudgetOut
from payments.service_layer import handlers
from qosym_chassis.auth import Principal, require_roles
from qosym_chassis.errors import NotFound

router = APIRouter()


def get_payments(request: Request) -> Payments:
    payments: Payments = request.app.state.payments
    return payments


PaymentsDep = Annotated[Payments, Depends(get_payments)]
BudgetReader = Annotated[Principal, Depends(require_roles("administrator", "auditor"))]
RegionCode = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{1,63}$", examples=["astana"])]


@router.get("/v1/regions/{code}/budget", tags=["budgets"], responses={404: {}})
async def get_region_budget(code: RegionCode, _: BudgetReader, payments: PaymentsDep) -> RegionBudgetOut:
    """A region's budget and voucher terms, and how many vouchers per direction it could fund."""
    budget = await handlers.get_region_budget(payments.context.session_factory, code)
    if budget is None:
        raise NotFound("no such region")
    return RegionBudgetOut(
        region_code=budget.code,
        revision=budget.revision,
        budget_tiyn=budget.budget_tiyn,
        voucher_monthly_value_tiyn=budget.voucher_monthly_value_tiyn,
        voucher_months=budget.voucher_months,
        max_vouchers_by_direction=budget.max_vouchers_by_direction(),
    )
