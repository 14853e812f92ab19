"""Enrolments and the holds made for their months."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters._sql import one, rows
from payments.domain.aggregates import Enrolment, Voucher

_ENROLMENT = (
    "SELECT enrolment_id, voucher_id, provider_id, child_id, programme_id, region_code, price_per_month_tiyn,"
    " sessions_per_month, status FROM enrolment"
)


_WITH_VOUCHER = (
    "SELECT e.enrolment_id, e.voucher_id, e.provider_id, e.child_id, e.programme_id, e.region_code,"
    " e.price_per_month_tiyn, e.sessions_per_month, e.status, v.round_id, v.region_code AS voucher_region_code,"
    " v.child_id AS voucher_child_id, v.monthly_value_tiyn, v.months, v.valid_until, v.requested_tiyn,"
    " v.status AS voucher_status"
    " FROM enrolment e JOIN voucher v ON v.voucher_id = e.voucher_id"
)


async def get_enrolment(session: AsyncSession, enrolment_id: UUID) -> Enrolment | None:
    row = await one(session, f"{_ENROLMENT} WHERE enrolment_id = :e", e=enrolment_id)
    return _enrolment(row) if row else None


async def enrolment_and_voucher(session: AsyncSession, enrolment_id: UUID) -> tuple[Enrolment, Voucher] | None:
    """The enrolment and its voucher, the voucher's row locked (its months' money is decided under that lock)."""
    row = await one(session, f"{_WITH_VOUCHER} WHERE e.enrolment_id = :e FOR UPDATE OF v", e=enrolment_id)
    if row is None:
        return None
    return _enrolment(row), _voucher(row)


async def enrolments_and_vouchers(
    session: AsyncSession, enrolment_ids: Iterable[UUID]
) -> dict[UUID, tuple[Enrolment, Voucher]]:
    """The enrolments of a batch with their vouchers, the vouchers' rows locked in ascending voucher id order (a
    batch's months' money is decided under those locks; one order, so batches over the same vouchers never deadlock).
    An unknown enrolment is left out."""
    found = await rows(
        session,
        f"{_WITH_VOUCHER} WHERE e.enrolment_id = ANY(:ids) ORDER BY v.voucher_id FOR UPDATE OF v",
        ids=sorted(set(enrolment_ids)),
    )
    return {row.enrolment_id: (_enrolment(row), _voucher(row)) for row in found}


def _voucher(row: Any) -> Voucher:
    return Voucher(
        voucher_id=row.voucher_id,
        round_id=row.round_id,
        region_code=row.voucher_region_code,
        child_id=row.voucher_child_id,
        monthly_value_tiyn=row.monthly_value_tiyn,
        months=row.months,
        valid_until=row.valid_until,
        requested_tiyn=row.requested_tiyn,
        status=row.voucher_status,
    )


def _enrolment(row: Any) -> Enrolment:
    return Enrolment(
        enrolment_id=row.enrolment_id,
        voucher_id=row.voucher_id,
        provider_id=row.provider_id,
        child_id=row.child_id,
        programme_id=row.programme_id,
        region_code=row.region_code,
        price_per_month_tiyn=row.price_per_month_tiyn,
        sessions_per_month=row.sessions_per_month,
        status=row.status,
    )


async def insert_enrolment(session: AsyncSession, enrolment: Enrolment, first_period: str, at: datetime) -> bool:
    row = await one(
        session,
        "INSERT INTO enrolment (enrolment_id, voucher_id, provider_id, child_id, programme_id, region_code,"
        " price_per_month_tiyn, sessions_per_month, first_period, confirmed_at)"
        " VALUES (:e, :v, :p, :c, :prog, :region, :price, :sessions, :period, :at)"
        " ON CONFLICT (enrolment_id) DO NOTHING RETURNING enrolment_id",
        e=enrolment.enrolment_id,
        v=enrolment.voucher_id,
        p=enrolment.provider_id,
        c=enrolment.child_id,
        prog=enrolment.programme_id,
        region=enrolment.region_code,
        price=enrolment.price_per_month_tiyn,
        sessions=enrolment.sessions_per_month,
        period=first_period,
        at=at,
    )
    return row is not None


async def end_enrolment(session: AsyncSession, enrolment_id: UUID, period: str, at: datetime) -> bool:
    row = await one(
        session,
        "UPDATE enrolment SET status = 'ended', ended_period = :period, ended_at = :at"
        " WHERE enrolment_id = :e AND status = 'active' RETURNING enrolment_id",
        e=enrolment_id,
        period=period,
        at=at,
    )
    return row is not None
