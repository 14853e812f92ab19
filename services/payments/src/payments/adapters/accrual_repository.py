"""Accruals: a posted month of an enrolment."""

from __future__ import annotations

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
