"""Budget read use cases: a region's budget and terms, a round's money and burn, the vouchers it could not fund."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from payments.adapters import region_repository, round_repository, voucher_repository
from payments.adapters.voucher_repository import Refusal
from payments.domain.budget import RegionBudget
from payments.service_layer.budget_watch import RoundBurn, round_burn
from payments.service_layer.dependencies import Dependencies
from payments.service_layer.paging import Page
from qosym_chassis.errors import NotFound


@dataclass(frozen=True)
class RegionBudgetView:
    region_code: str
    revision: int
    budget_tiyn: int
    voucher_monthly_value_tiyn: dict[str, int]
    voucher_months: int
    max_vouchers_by_direction: dict[str, int]

    @classmethod
    def of(cls, budget: RegionBudget) -> RegionBudgetView:
        return cls(
            region_code=budget.code,
            revision=budget.revision,
            budget_tiyn=budget.budget_tiyn,
            voucher_monthly_value_tiyn=budget.voucher_monthly_value_tiyn,
            voucher_months=budget.voucher_months,
            max_vouchers_by_direction=budget.max_vouchers_by_direction(),
        )


@dataclass(frozen=True)
class RegionBurn:
    region_code: str
    budget_tiyn: int
    committed_tiyn: int
    spent_tiyn: int
    forecast_tiyn: int
    rounds: list[RoundBurn]


async def get_region_budget(deps: Dependencies, code: str) -> RegionBudgetView:
    async with deps.sessions() as session:
        budget = await region_repository.get_region_budget(session, code)
    if budget is None:
        raise NotFound("no such region")
    return RegionBudgetView.of(budget)


async def get_round_budget(deps: Dependencies, round_id: UUID) -> RoundBurn:
    async with deps.sessions() as session:
        round_ = await round_repository.get_round(session, round_id)
        if round_ is None:
            raise NotFound("no such round")
        return await round_burn(session, round_, deps.policy, deps.clock.now())


async def list_refusals(deps: Dependencies, round_id: UUID, limit: int, offset: int) -> Page[Refusal]:
    async with deps.sessions() as session:
        if await round_repository.get_round(session, round_id) is None:
            raise NotFound("no such round")
        total, found = await voucher_repository.refusals(session, round_id, limit, offset)
    return Page(found, total, limit, offset)


async def get_region_burn(deps: Dependencies, code: str) -> RegionBurn:
    async with deps.sessions() as session:
        rounds = await round_repository.rounds_of_region(session, code)
        if not rounds:
            raise NotFound("no funded round in this region")
        now = deps.clock.now()
        burns = [await round_burn(session, r, deps.policy, now) for r in rounds]
    return RegionBurn(
        region_code=code,
        budget_tiyn=sum(b.budget_tiyn for b in burns),
        committed_tiyn=sum(b.committed_tiyn for b in burns),
        spent_tiyn=sum(b.spent_tiyn for b in burns),
        forecast_tiyn=sum(b.forecast_tiyn for b in burns),
        rounds=burns,
    )
