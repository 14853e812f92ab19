"""Budget watch: what each round has committed and spent, a forecast to the end of the school year, and
BudgetThresholdReached once per round and configured level.

- committed = appropriated − the round budget's balance (money moved into vouchers, net of returns);
- spent = posted accruals of the round's vouchers; held = open holds on them;
- burn = the accruals of the latest month that has any (the current monthly burn);
- the school year ends with the latest ``valid_until`` of the round's vouchers (allocation sets it to the
  end of the school year); without vouchers, in QOSYM_SCHOOL_YEAR_END_MONTH (May) of the current school year;
- forecast = spent + burn × the months after the latest month up to that end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters import budget_queries, ledger, threshold_repository
from payments.domain import periods
from payments.domain.aggregates import Round
from payments.domain.policy import Policy
from qosym_chassis import outbox
from qosym_contracts import payments as events


@dataclass(frozen=True)
class RoundBurn:
    round_id: UUID
    region_code: str
    budget_tiyn: int
    available_tiyn: int
    committed_tiyn: int
    held_tiyn: int
    spent_tiyn: int
    vouchers_funded: int
    vouchers_refused: int
    latest_period: str | None
    burn_per_month_tiyn: int
    school_year_ends: str
    forecast_tiyn: int
    thresholds_reached: list[int]


async def round_burn(session: AsyncSession, round_: Round, policy: Policy, now: datetime) -> RoundBurn:
    account = await ledger.account(session, round_.budget_account)
    available = account.balance if account else 0
    figures = await budget_queries.round_figures(session, round_.round_id)
    latest = figures.latest_period
    if figures.last_valid_until is not None:
        ends = periods.period_of_date(figures.last_valid_until)
    else:
        ends = periods.school_year_end(latest or periods.period_of(now, "UTC"), policy.school_year_end_month)
    remaining = periods.months_after(latest, ends) if latest else 0
    reached = await threshold_repository.thresholds(session, round_.round_id)
    return RoundBurn(
        round_id=round_.round_id,
        region_code=round_.region_code,
        budget_tiyn=round_.budget_tiyn,
        available_tiyn=available,
        committed_tiyn=round_.budget_tiyn - available,
        held_tiyn=figures.held,
        spent_tiyn=figures.spent,
        vouchers_funded=figures.funded,
        vouchers_refused=figures.refused,
        latest_period=latest,
        burn_per_month_tiyn=figures.latest_burn,
        school_year_ends=ends,
        forecast_tiyn=figures.spent + figures.latest_burn * remaining,
        thresholds_reached=reached,
    )


async def check_thresholds(
    session: AsyncSession, round_: Round, policy: Policy, at: datetime, balance: int, reached: frozenset[int]
) -> None:
    """Publish BudgetThresholdReached for every configured level the committed money has crossed, once each.
    ``balance`` is the round budget's balance now (read under its lock by the caller); ``reached`` the levels
    recorded before (read earlier in the transaction: a level recorded meanwhile is recorded, and published, once
    all the same, by the unique key of budget_threshold)."""
    if round_.budget_tiyn == 0:
        return
    committed = round_.budget_tiyn - balance
    crossed = [p for p in sorted(set(policy.thresholds_percent)) if committed * 100 >= p * round_.budget_tiyn]
    todo = [p for p in crossed if p not in reached]
    if not todo:
        return
    burn = await round_burn(session, round_, policy, at)
    for percent in todo:
        if await threshold_repository.record_threshold(session, round_.round_id, percent, burn.committed_tiyn, at):
            await outbox.add_event(
                session,
                events.BudgetThresholdReachedV1(
                    round_id=round_.round_id,
                    region_code=round_.region_code,
                    threshold_percent=percent,
                    budget_tiyn=round_.budget_tiyn,
                    committed_tiyn=burn.committed_tiyn,
                    spent_tiyn=burn.spent_tiyn,
                    forecast_tiyn=burn.forecast_tiyn,
                ),
            )
