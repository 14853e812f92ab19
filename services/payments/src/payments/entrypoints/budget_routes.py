"""Budgets: a region's budget and terms, a round's money and burn, the vouchers a round could not fund."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from payments.entrypoints import schemas
from payments.entrypoints.dependencies import Deps, RegionPath
from payments.service_layer import budgets
from qosym_chassis.callers import FinanceReader
from qosym_chassis.inputs import Limit, Offset, OffsetPage

router = APIRouter(tags=["budgets"])


@router.get("/v1/regions/{code}/budget", responses={404: {}})
async def get_region_budget(code: RegionPath, _: FinanceReader, deps: Deps) -> schemas.RegionBudgetOut:
    """A region's budget and voucher terms, and how many vouchers per direction it could fund."""
    return schemas.out(schemas.RegionBudgetOut, await budgets.get_region_budget(deps, code))


@router.get("/v1/rounds/{round_id}/budget", responses={404: {}})
async def get_round_budget(round_id: UUID, _: FinanceReader, deps: Deps) -> schemas.RoundBudgetOut:
    """A round's money: appropriated, committed to vouchers, held, spent, the monthly burn and the forecast."""
    return schemas.out(schemas.RoundBudgetOut, await budgets.get_round_budget(deps, round_id))


@router.get("/v1/rounds/{round_id}/funding-refusals", responses={404: {}})
async def list_refusals(
    round_id: UUID, _: FinanceReader, deps: Deps, limit: Limit = 50, offset: Offset = 0
) -> OffsetPage[schemas.RefusalOut]:
    """Vouchers allocation awarded that the round's budget could not fund (nothing was posted for them)."""
    return schemas.paged(schemas.RefusalOut, await budgets.list_refusals(deps, round_id, limit, offset))


@router.get("/v1/regions/{code}/burn", responses={404: {}})
async def get_region_burn(code: RegionPath, _: FinanceReader, deps: Deps) -> schemas.RegionBurnOut:
    """Burn per round of a region and their totals."""
    return schemas.out(schemas.RegionBurnOut, await budgets.get_region_burn(deps, code))
