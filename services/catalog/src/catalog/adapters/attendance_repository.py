"""All SQL of catalog's projection of attendance's timesheets: attended months and disputes per enrolment.

Every write is an upsert keyed by a business key (enrolment x period, dispute id), so a redelivery under a new
event id changes nothing, and an older submission of the same month never overwrites a newer one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import attendance_month, enrolment, timesheet_dispute


async def put_month(session: AsyncSession, enrolment_id: UUID, period: str, values: dict[str, Any]) -> None:
    """The month's timesheet of the enrolment, unless a newer submission of it is stored already."""
    statement = insert(attendance_month).values(enrolment_id=enrolment_id, period=period, **values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[attendance_month.c.enrolment_id, attendance_month.c.period],
            set_=values,
            where=attendance_month.c.submitted_at <= statement.excluded.submitted_at,
        )
    )


async def note_first_attended(session: AsyncSession, enrolment_id: UUID, first: datetime) -> None:
    """The earliest attended session ever reported, whatever order the months arrive in."""
    await session.execute(
        update(enrolment)
        .where(enrolment.c.id == enrolment_id)
        .values(first_attended_at=func.least(func.coalesce(enrolment.c.first_attended_at, first), first))
    )


async def put_dispute(session: AsyncSession, keys: dict[str, Any], values: dict[str, Any]) -> None:
    statement = insert(timesheet_dispute).values(**keys, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=[timesheet_dispute.c.dispute_id], set_=values))
