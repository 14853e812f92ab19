"""The family budget: what the vouchers cover and what the family owes, for the guardian and for the provider."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from payments.entrypoints import family_budget_schemas as schemas
from payments.entrypoints.dependencies import Deps, ProviderMoneyReader
from payments.service_layer import family_budget
from qosym_chassis.callers import Parent

router = APIRouter(tags=["family budget"])


@router.get("/v1/families/me/budget")
async def my_family_budget(principal: Parent, deps: Deps) -> schemas.FamilyBudgetOut:
    """Per child and month: the voucher's monthly value, the programme's price, what the voucher covers, the
    co-payment owed to the provider, sessions and the accrual; the past months; the rest of the school year."""
    return schemas.family_out(await family_budget.for_family(deps, principal))


@router.get("/v1/providers/{provider_id}/enrolments/budget", responses={404: {}})
async def provider_enrolments_budget(
    provider_id: UUID, principal: ProviderMoneyReader, deps: Deps
) -> schemas.ProviderBudgetOut:
    """The same split for each of the provider's enrolments (its own staff, administrators, auditors)."""
    current, budgets = await family_budget.for_provider(deps, principal, provider_id)
    return schemas.provider_out(provider_id, current, budgets)
