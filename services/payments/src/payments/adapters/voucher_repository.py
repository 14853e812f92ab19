"""Vouchers: funded from their round's budget, or refused whole."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters._sql import one
from payments.domain.aggregates import Voucher

_VOUCHER_COLUMNS = (
    "SELECT voucher_id, round_id, region_code, child_id, monthly_value_tiyn, months, valid_until, requested_tiyn,"
    " status"
)
_VOUCHER = f"{_VOUCHER_COLUMNS} FROM voucher"


def _voucher(row: Any) -> Voucher:
    return Voucher(
        voucher_id=row.voucher_id,
        round_id=row.round_id,
        region_code=row.region_code,
        child_id=row.child_id,
        monthly_value_tiyn=row.monthly_value_tiyn,
        months=row.months,
        valid_until=row.valid_until,
        requested_tiyn=row.requested_tiyn,
        status=row.status,
    )


async def voucher_and_timezone(
    session: AsyncSession, voucher_id: UUID, region_code: str
) -> tuple[Voucher | None, str | None]:
    """A voucher (None while it is not here) and, with it, its region's time zone (None while not configured)."""
    row = await one(
        session,
        f"{_VOUCHER_COLUMNS}, (SELECT timezone FROM region_budget WHERE region_code = :region) AS region_timezone"
        " FROM voucher WHERE voucher_id = :v",
        v=voucher_id,
        region=region_code,
    )
    return (_voucher(row), row.region_timezone) if row else (None, None)


async def get_voucher(session: AsyncSession, voucher_id: UUID, *, lock: bool = False) -> Voucher | None:
    row = await one(session, f"{_VOUCHER} WHERE voucher_id = :v{' FOR UPDATE' if lock else ''}", v=voucher_id)
    return _voucher(row) if row else None


async def insert_voucher(
    session: AsyncSession,
    *,
    voucher_id: UUID,
    round_id: UUID,
    region_code: str,
    child_id: UUID,
    direction: str,
    monthly_value_tiyn: int,
    months: int,
    valid_until: date,
    account_code: str | None,
    available_at_refusal_tiyn: int | None,
) -> None:
    await session.execute(
        text(
            "INSERT INTO voucher (voucher_id, round_id, region_code, child_id, direction, monthly_value_tiyn, months,"
            " valid_until, requested_tiyn, status, account_id, available_at_refusal_tiyn)"
            " VALUES (:v, :r, :region, :child, :direction, :monthly, :months, :until, :requested, :status,"
            " (SELECT id FROM account WHERE code = :code), :available)"
        ),
        {
            "v": voucher_id,
            "r": round_id,
            "region": region_code,
            "child": child_id,
            "direction": direction,
            "monthly": monthly_value_tiyn,
            "months": months,
            "until": valid_until,
            "requested": monthly_value_tiyn * months,
            "status": "refused" if account_code is None else "funded",
            "code": account_code,
            "available": available_at_refusal_tiyn,
        },
    )


async def end_voucher(session: AsyncSession, voucher_id: UUID, reason: str, at: datetime) -> None:
    await session.execute(
        text("UPDATE voucher SET status = 'ended', ended_reason = :reason, ended_at = :at WHERE voucher_id = :v"),
        {"v": voucher_id, "reason": reason, "at": at},
    )


@dataclass(frozen=True)
class Refusal:
    voucher_id: UUID
    requested_tiyn: int
    available_tiyn: int
    refused_at: datetime


async def refusals(session: AsyncSession, round_id: UUID, limit: int, offset: int) -> tuple[int, list[Refusal]]:
    """The round's refused vouchers (a page of them, oldest first) and how many there are."""
    total = await one(
        session, "SELECT count(*) AS n FROM voucher WHERE round_id = :r AND status = 'refused'", r=round_id
    )
    rows = await session.execute(
        text(
            "SELECT voucher_id, requested_tiyn, available_at_refusal_tiyn, created_at FROM voucher"
            " WHERE round_id = :r AND status = 'refused' ORDER BY created_at, voucher_id LIMIT :n OFFSET :o"
        ),
        {"r": round_id, "n": limit, "o": offset},
    )
    found = [Refusal(r.voucher_id, r.requested_tiyn, max(0, r.available_at_refusal_tiyn), r.created_at) for r in rows]
    return int(total.n) if total else 0, found


@dataclass(frozen=True)
class NewVoucher:
    voucher_id: UUID
    round_id: UUID
    region_code: str
    child_id: UUID
    direction: str
    monthly_value_tiyn: int
    months: int
    valid_until: date
    account_code: str | None  # None: refused
    available_at_refusal_tiyn: int | None


async def insert_vouchers(session: AsyncSession, vouchers: Sequence[NewVoucher]) -> None:
    """``insert_voucher`` for a batch, in one statement."""
    if not vouchers:
        return
    await session.execute(
        text(
            "INSERT INTO voucher (voucher_id, round_id, region_code, child_id, direction, monthly_value_tiyn, months,"
            " valid_until, requested_tiyn, status, account_id, available_at_refusal_tiyn)"
            " SELECT x.v, x.r, x.region, x.child, x.direction, x.monthly, x.months, x.until, x.monthly * x.months,"
            " CASE WHEN x.code IS NULL THEN 'refused' ELSE 'funded' END, a.id, x.available"
            " FROM unnest(CAST(:v AS uuid[]), CAST(:r AS uuid[]), CAST(:region AS text[]), CAST(:child AS uuid[]),"
            " CAST(:direction AS text[]), CAST(:monthly AS bigint[]), CAST(:months AS int[]), CAST(:until AS date[]),"
            " CAST(:code AS text[]), CAST(:available AS bigint[])) WITH ORDINALITY"
            " AS x(v, r, region, child, direction, monthly, months, until, code, available, ord)"
            " LEFT JOIN account a ON a.code = x.code ORDER BY x.ord"
        ),
        {
            "v": [n.voucher_id for n in vouchers],
            "r": [n.round_id for n in vouchers],
            "region": [n.region_code for n in vouchers],
            "child": [n.child_id for n in vouchers],
            "direction": [n.direction for n in vouchers],
            "monthly": [n.monthly_value_tiyn for n in vouchers],
            "months": [n.months for n in vouchers],
            "until": [n.valid_until for n in vouchers],
            "code": [n.account_code for n in vouchers],
            "available": [n.available_at_refusal_tiyn for n in vouchers],
        },
    )
