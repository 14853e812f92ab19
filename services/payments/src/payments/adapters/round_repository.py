"""Funding rounds: the round and its budget account, as allocation opened it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters._sql import one
from payments.domain.aggregates import Round


async def insert_round(
    session: AsyncSession, round_id: UUID, region_code: str, budget_tiyn: int, account_code: str, opened_at: datetime
) -> bool:
    row = await one(
        session,
        "INSERT INTO funding_round (round_id, region_code, budget_tiyn, account_id, opened_at)"
        " SELECT :r, :region, :budget, id, :at FROM account WHERE code = :code"
        " ON CONFLICT (round_id) DO NOTHING RETURNING round_id",
        r=round_id,
        region=region_code,
        budget=budget_tiyn,
        code=account_code,
        at=opened_at,
    )
    return row is not None


async def get_round(session: AsyncSession, round_id: UUID) -> Round | None:
    row = await one(
        session, "SELECT round_id, region_code, budget_tiyn FROM funding_round WHERE round_id = :r", r=round_id
    )
    return Round(row.round_id, row.region_code, row.budget_tiyn) if row else None


@dataclass(frozen=True)
class RoundOfAward:
    round: Round | None  # None while the round is not here
    voucher_recorded: bool
    thresholds_reached: frozenset[int]
    budget_balance: int  # the round budget account's, read under its lock
    budget_available: int


async def round_of_award(session: AsyncSession, round_id: UUID, voucher_id: UUID) -> RoundOfAward:
    """What funding an award needs, in one query: its round with the round budget's account locked (the funding is
    decided under that lock, so two awards never spend the same money), whether the voucher is already recorded,
    and the budget thresholds the round has reached."""
    row = await one(
        session,
        "SELECT r.round_id, r.region_code, r.budget_tiyn, a.balance, a.balance - a.pending_debits AS available,"
        " EXISTS (SELECT 1 FROM voucher WHERE voucher_id = :v) AS recorded,"
        " ARRAY(SELECT threshold_percent FROM budget_threshold WHERE round_id = :r) AS reached"
        " FROM funding_round r JOIN account a ON a.id = r.account_id WHERE r.round_id = :r FOR UPDATE OF a",
        r=round_id,
        v=voucher_id,
    )
    if row is None:
        return RoundOfAward(None, False, frozenset(), 0, 0)
    return RoundOfAward(
        Round(row.round_id, row.region_code, row.budget_tiyn),
        bool(row.recorded),
        frozenset(row.reached),
        int(row.balance),
        int(row.available),
    )


async def rounds_of_region(session: AsyncSession, region_code: str | None) -> list[Round]:
    rows = await session.execute(
        text(
            "SELECT round_id, region_code, budget_tiyn FROM funding_round"
            " WHERE CAST(:region AS TEXT) IS NULL OR region_code = :region ORDER BY opened_at, round_id"
        ),
        {"region": region_code},
    )
    return [Round(r.round_id, r.region_code, r.budget_tiyn) for r in rows]


@dataclass(frozen=True)
class RoundsOfAwards:
    rounds: dict[UUID, Round]  # the rounds that are here
    recorded: frozenset[UUID]  # the awards' vouchers already recorded
    thresholds_reached: dict[UUID, frozenset[int]]


async def rounds_of_awards(
    session: AsyncSession, round_ids: Iterable[UUID], voucher_ids: Iterable[UUID]
) -> RoundsOfAwards:
    """``round_of_award`` for a batch, without the lock (the caller locks the budget accounts with the batch's
    other accounts, in one order): the rounds, which vouchers are recorded, the thresholds each round reached."""
    rounds = await session.execute(
        text(
            "SELECT r.round_id, r.region_code, r.budget_tiyn,"
            " ARRAY(SELECT threshold_percent FROM budget_threshold t WHERE t.round_id = r.round_id) AS reached"
            " FROM funding_round r WHERE r.round_id = ANY(CAST(:r AS uuid[]))"
        ),
        {"r": sorted(set(round_ids))},
    )
    found = list(rounds)
    recorded = await session.execute(
        text("SELECT voucher_id FROM voucher WHERE voucher_id = ANY(CAST(:v AS uuid[]))"),
        {"v": sorted(set(voucher_ids))},
    )
    return RoundsOfAwards(
        rounds={row.round_id: Round(row.round_id, row.region_code, row.budget_tiyn) for row in found},
        recorded=frozenset(row.voucher_id for row in recorded),
        thresholds_reached={row.round_id: frozenset(row.reached) for row in found},
    )
