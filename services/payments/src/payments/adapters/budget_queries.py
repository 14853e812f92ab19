"""Read-side figures of a round's budget: spent, burn, vouchers, held."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters._sql import one


@dataclass(frozen=True)
class RoundFigures:
    spent: int
    latest_period: str | None
    latest_burn: int
    funded: int
    refused: int
    last_valid_until: date | None
    held: int


async def round_figures(session: AsyncSession, round_id: UUID) -> RoundFigures:
    """Spent (posted accruals), the latest month with accruals and its burn, vouchers funded/refused, the last
    valid_until of its vouchers (the end of the school year as allocation set it)."""
    money = await one(
        session,
        "SELECT coalesce(sum(amount_tiyn), 0) AS spent FROM accrual WHERE round_id = :r",
        r=round_id,
    )
    latest = await one(
        session,
        "SELECT period, sum(amount_tiyn) AS burn FROM accrual WHERE round_id = :r GROUP BY period"
        " ORDER BY period DESC LIMIT 1",
        r=round_id,
    )
    vouchers = await one(
        session,
        "SELECT count(*) FILTER (WHERE status <> 'refused') AS funded, count(*) FILTER (WHERE status = 'refused')"
        " AS refused, max(valid_until) FILTER (WHERE status <> 'refused') AS last_valid_until FROM voucher"
        " WHERE round_id = :r",
        r=round_id,
    )
    held = await one(
        session,
        "SELECT coalesce(sum(a.pending_debits), 0) AS held FROM voucher v JOIN account a ON a.id = v.account_id"
        " WHERE v.round_id = :r",
        r=round_id,
    )
    assert money is not None and vouchers is not None and held is not None  # aggregates always return a row
    return RoundFigures(
        spent=int(money.spent),
        latest_period=latest.period if latest else None,
        latest_burn=int(latest.burn) if latest else 0,
        funded=int(vouchers.funded),
        refused=int(vouchers.refused),
        last_valid_until=vouchers.last_valid_until,
        held=int(held.held),
    )
