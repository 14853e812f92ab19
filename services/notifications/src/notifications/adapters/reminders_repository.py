"""All SQL of reminders: scheduled from a deadline, cancelled by the action, claimed and settled when due."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.orm import reminder


@dataclass(frozen=True)
class DueReminder:
    id: UUID
    kind: str
    subject_id: UUID
    child_id: UUID
    deadline: datetime | None
    payload: dict[str, Any]


async def schedule_reminder(
    session: AsyncSession,
    kind: str,
    subject_id: UUID,
    child_id: UUID,
    fire_at: datetime,
    deadline: datetime,
    payload: dict[str, Any],
) -> None:
    """A reminder already cancelled (its action done, even before it was scheduled) stays cancelled."""
    await session.execute(
        insert(reminder)
        .values(
            id=uuid4(),
            kind=kind,
            subject_id=subject_id,
            child_id=child_id,
            status="scheduled",
            fire_at=fire_at,
            deadline=deadline,
            payload=payload,
        )
        .on_conflict_do_update(
            index_elements=[reminder.c.kind, reminder.c.subject_id],
            set_={"fire_at": fire_at, "deadline": deadline, "payload": payload, "child_id": child_id},
            where=reminder.c.status == "scheduled",
        )
    )


@dataclass(frozen=True)
class PlannedReminder:
    kind: str
    subject_id: UUID
    child_id: UUID
    fire_at: datetime
    deadline: datetime
    payload: dict[str, Any]


async def schedule_reminders(session: AsyncSession, planned: Sequence[PlannedReminder]) -> None:
    """``schedule_reminder`` for many (each kind and subject once) in one statement."""
    if not planned:
        return
    stmt = insert(reminder).values(
        [
            {
                "id": uuid4(),
                "kind": p.kind,
                "subject_id": p.subject_id,
                "child_id": p.child_id,
                "status": "scheduled",
                "fire_at": p.fire_at,
                "deadline": p.deadline,
                "payload": p.payload,
            }
            for p in planned
        ]
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[reminder.c.kind, reminder.c.subject_id],
            set_={
                "fire_at": stmt.excluded.fire_at,
                "deadline": stmt.excluded.deadline,
                "payload": stmt.excluded.payload,
                "child_id": stmt.excluded.child_id,
            },
            where=reminder.c.status == "scheduled",
        )
    )


async def cancel_reminder(session: AsyncSession, kind: str, subject_id: UUID) -> None:
    await session.execute(
        insert(reminder)
        .values(id=uuid4(), kind=kind, subject_id=subject_id, status="cancelled", settled_at=func.now())
        .on_conflict_do_update(
            index_elements=[reminder.c.kind, reminder.c.subject_id],
            set_={"status": "cancelled", "settled_at": func.now()},
            where=reminder.c.status == "scheduled",
        )
    )


async def claim_due_reminders(session: AsyncSession, now: datetime, limit: int) -> list[DueReminder]:
    rows = (
        (
            await session.execute(
                select(reminder)
                .where(reminder.c.status == "scheduled", reminder.c.fire_at <= now)
                .order_by(reminder.c.fire_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .mappings()
        .all()
    )
    return [
        DueReminder(r["id"], r["kind"], r["subject_id"], r["child_id"], r["deadline"], dict(r["payload"])) for r in rows
    ]


async def settle_reminder(session: AsyncSession, reminder_id: UUID, status: str) -> None:
    await session.execute(
        update(reminder).where(reminder.c.id == reminder_id).values(status=status, settled_at=func.now())
    )


async def reminder_status(session: AsyncSession, kind: str, subject_id: UUID) -> str | None:
    value = (
        await session.execute(
            select(reminder.c.status).where(reminder.c.kind == kind, reminder.c.subject_id == subject_id)
        )
    ).scalar()
    return str(value) if value is not None else None
