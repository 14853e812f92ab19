"""Accruals: a posted month of an enrolment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from payments.domain.aggregates import Accrual

_ACCRUAL = (
    "SELECT accrual_id, enrolment_id, period, provider_id, child_id, voucher_id, programme_id, timesheet_id,"
    " region_code, amount_tiyn, payable_sessions, planned_sessions, price_per_month_tiyn, batch_id, paid_at, posted_at"
    " FROM accrual"
)


async def record_posting(
    session: AsyncSession,
    accrual: Accrual,
    *,
    hold_id: UUID | None,
    round_id: UUID,
    transfer_id: UUID | None,
    cause_event_id: UUID,
    at: datetime,
) -> None:
    """A month was posted: its hold (when it had one) is marked posted and its accrual recorded, in one statement."""
    values = {name: getattr(accrual, name) for name in Accrual.__dataclass_fields__}
    values.pop("batch_id")
    values.pop("paid_at")
    values.update(round_id=round_id, transfer_id=transfer_id, cause_event_id=cause_event_id)
    columns = ", ".join(values)
    await session.execute(
        text(
            "WITH posted AS (UPDATE hold SET status = 'posted', resolved_at = :resolved_at"
            " WHERE transfer_id = :hold_id AND status = 'open')"
            f" INSERT INTO accrual ({columns}) VALUES ({', '.join(':' + c for c in values)})"
        ),
        {**values, "hold_id": hold_id, "resolved_at": at},
    )


@dataclass(frozen=True)
class Posting:
    """One posted month of a batch: its accrual and what ``record_posting`` takes beside it."""

    accrual: Accrual
    hold_id: UUID | None
    round_id: UUID
    transfer_id: UUID | None
    cause_event_id: UUID


_POSTING_COLUMNS = {  # column: its array type
    "accrual_id": "uuid",
    "enrolment_id": "uuid",
    "period": "text",
    "provider_id": "uuid",
    "child_id": "uuid",
    "voucher_id": "uuid",
    "programme_id": "uuid",
    "timesheet_id": "uuid",
    "region_code": "text",
    "amount_tiyn": "bigint",
    "payable_sessions": "int",
    "planned_sessions": "int",
    "price_per_month_tiyn": "bigint",
    "posted_at": "timestamptz",
    "round_id": "uuid",
    "transfer_id": "uuid",
    "cause_event_id": "uuid",
}


async def record_postings(session: AsyncSession, postings: Sequence[Posting], *, at: datetime) -> None:
    """``record_posting`` for a batch: every posted month's hold marked posted and every accrual recorded, in one
    statement."""
    if not postings:
        return
    values: dict[str, list[object]] = {column: [] for column in _POSTING_COLUMNS}
    for p in postings:
        for column in _POSTING_COLUMNS:
            source = p if column in ("round_id", "transfer_id", "cause_event_id") else p.accrual
            values[column].append(getattr(source, column))
    columns = ", ".join(_POSTING_COLUMNS)
    arrays = ", ".join(f"CAST(:{c} AS {t}[])" for c, t in _POSTING_COLUMNS.items())
    await session.execute(
        text(
            "WITH posted AS (UPDATE hold SET status = 'posted', resolved_at = :resolved_at"
            " WHERE transfer_id = ANY(CAST(:hold_ids AS uuid[])) AND status = 'open')"
            f" INSERT INTO accrual ({columns}) SELECT * FROM unnest({arrays})"
        ),
        {**values, "hold_ids": [p.hold_id for p in postings if p.hold_id], "resolved_at": at},
    )
