"""Holds: a month's price held against a voucher until the month is posted or voided."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters._sql import one
from payments.domain.aggregates import Hold, Month


def _hold(row: Any) -> Hold:
    return Hold(row.transfer_id, row.enrolment_id, row.period, row.seq, row.amount_tiyn, row.status)


_HOLD = "SELECT transfer_id, enrolment_id, period, seq, amount_tiyn, status FROM hold"


async def open_holds(session: AsyncSession, enrolment_id: UUID) -> list[Hold]:
    rows = await session.execute(
        text(f"{_HOLD} WHERE enrolment_id = :e AND status = 'open' ORDER BY period, seq"), {"e": enrolment_id}
    )
    return [_hold(r) for r in rows]


async def open_holds_before(session: AsyncSession, period: str, limit: int) -> list[Hold]:
    rows = await session.execute(
        text(f"{_HOLD} WHERE status = 'open' AND period < :p ORDER BY period, transfer_id LIMIT :n"),
        {"p": period, "n": limit},
    )
    return [_hold(r) for r in rows]


async def month_of(session: AsyncSession, enrolment_id: UUID, period: str) -> Month:
    """Whether (enrolment, period) is accrued, its open hold and the number its next hold takes: one query."""
    row = await one(
        session,
        "SELECT EXISTS (SELECT 1 FROM accrual WHERE enrolment_id = :e AND period = :p) AS accrued,"
        " (SELECT coalesce(max(seq), 0) + 1 FROM hold WHERE enrolment_id = :e AND period = :p) AS next_seq,"
        " h.transfer_id, h.enrolment_id, h.period, h.seq, h.amount_tiyn, h.status"
        " FROM (SELECT 1) AS one LEFT JOIN hold h ON h.enrolment_id = :e AND h.period = :p AND h.status = 'open'",
        e=enrolment_id,
        p=period,
    )
    assert row is not None  # selected FROM (SELECT 1): always one row
    open_hold = _hold(row) if row.transfer_id is not None else None
    return Month(accrued=row.accrued, open_hold=open_hold, next_hold_seq=int(row.next_seq))


async def months_of(session: AsyncSession, months: Iterable[tuple[UUID, str]]) -> dict[tuple[UUID, str], Month]:
    """``month_of`` for a batch of (enrolment, period): one query."""
    wanted = sorted(set(months))
    if not wanted:
        return {}
    found = await session.execute(
        text(
            "SELECT m.e AS month_enrolment, m.p AS month_period,"
            " EXISTS (SELECT 1 FROM accrual a WHERE a.enrolment_id = m.e AND a.period = m.p) AS accrued,"
            " (SELECT coalesce(max(s.seq), 0) + 1 FROM hold s WHERE s.enrolment_id = m.e AND s.period = m.p)"
            " AS next_seq, h.transfer_id, h.enrolment_id, h.period, h.seq, h.amount_tiyn, h.status"
            " FROM unnest(CAST(:es AS uuid[]), CAST(:ps AS text[])) AS m(e, p)"
            " LEFT JOIN hold h ON h.enrolment_id = m.e AND h.period = m.p AND h.status = 'open'"
        ),
        {"es": [e for e, _ in wanted], "ps": [p for _, p in wanted]},
    )
    return {
        (row.month_enrolment, row.month_period): Month(
            accrued=row.accrued,
            open_hold=_hold(row) if row.transfer_id is not None else None,
            next_hold_seq=int(row.next_seq),
        )
        for row in found
    }


async def insert_holds(session: AsyncSession, holds: Sequence[Hold]) -> None:
    """Record a batch's new holds in one statement (after their hold transfers)."""
    if not holds:
        return
    await session.execute(
        text(
            "INSERT INTO hold (transfer_id, enrolment_id, period, seq, amount_tiyn)"
            " SELECT * FROM unnest(CAST(:t AS uuid[]), CAST(:e AS uuid[]), CAST(:p AS text[]), CAST(:seq AS int[]),"
            " CAST(:amount AS bigint[]))"
        ),
        {
            "t": [h.transfer_id for h in holds],
            "e": [h.enrolment_id for h in holds],
            "p": [h.period for h in holds],
            "seq": [h.seq for h in holds],
            "amount": [h.amount_tiyn for h in holds],
        },
    )


async def insert_hold(session: AsyncSession, hold: Hold) -> None:
    await session.execute(
        text(
            "INSERT INTO hold (transfer_id, enrolment_id, period, seq, amount_tiyn) VALUES (:t, :e, :p, :seq, :amount)"
        ),
        {"t": hold.transfer_id, "e": hold.enrolment_id, "p": hold.period, "seq": hold.seq, "amount": hold.amount_tiyn},
    )


async def resolve_hold(session: AsyncSession, transfer_id: UUID, status: str, at: datetime) -> None:
    await session.execute(
        text("UPDATE hold SET status = :s, resolved_at = :at WHERE transfer_id = :t AND status = 'open'"),
        {"t": transfer_id, "s": status, "at": at},
    )
