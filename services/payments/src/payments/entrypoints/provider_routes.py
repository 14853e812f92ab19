"""A provider's money: its accruals, its statement, what the treasury was ordered to pay it."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from payments.entrypoints import schemas
from payments.entrypoints.dependencies import Deps, PeriodQuery, ProviderMoneyReader
from payments.service_layer import providers
from qosym_chassis.inputs import Limit, Offset, OffsetPage

router = APIRouter(tags=["providers"])


@router.get("/v1/providers/{provider_id}/accruals", responses={404: {}})
async def list_accruals(
    provider_id: UUID,
    principal: ProviderMoneyReader,
    deps: Deps,
    period: PeriodQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> OffsetPage[schemas.AccrualOut]:
    """A provider's accruals per month and child (its own staff, administrators, auditors)."""
    page = await providers.list_accruals(deps, principal, provider_id, period, limit, offset)
    return schemas.paged(schemas.AccrualOut, page)


@router.get("/v1/providers/{provider_id}/statement", responses={404: {}})
async def provider_statement(
    provider_id: UUID, principal: ProviderMoneyReader, deps: Deps
) -> schemas.ProviderStatementOut:
    """Accrued and paid per month and child, and what is owed now."""
    return schemas.out(schemas.ProviderStatementOut, await providers.statement(deps, principal, provider_id))


@router.get("/v1/providers/{provider_id}/payments", responses={404: {}})
async def list_payments(
    provider_id: UUID, principal: ProviderMoneyReader, deps: Deps, limit: Limit = 50, offset: Offset = 0
) -> OffsetPage[schemas.PaymentOut]:
    """What the treasury was ordered to pay the provider, per batch, and whether it was paid."""
    page = await providers.list_payments(deps, principal, provider_id, limit, offset)
    return schemas.paged(schemas.PaymentOut, page)
