"""Notifications persistence: each person's inbox."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.orm import inbox_message
from notifications.domain.messages import Message, NewMessage


async def add_message(session: AsyncSession, new: NewMessage) -> bool:
    """False when the person already has this message about this subject (a replay)."""
    result = await session.execute(
        insert(inbox_message)
        .values(id=uuid4(), person_id=new.person_id, kind=new.kind, subject_id=new.subject_id, payload=new.payload)
        .on_conflict_do_nothing(constraint="uq_inbox_message_kind_subject_person")
        .returning(inbox_message.c.id)
    )
    return result.first() is not None


def inbox_query(person_id: UUID) -> Select[Any]:
    return (
        select(inbox_message)
        .where(inbox_message.c.person_id == person_id)
        .order_by(inbox_message.c.created_at.desc(), inbox_message.c.id.desc())
    )


async def mark_read(session: AsyncSession, message_id: UUID, person_id: UUID) -> Message | None:
    """Mark one of the person's messages read (the first time only); None if it is not theirs."""
    row = (
        (
            await session.execute(
                update(inbox_message)
                .where(inbox_message.c.id == message_id, inbox_message.c.person_id == person_id)
                .values(read_at=func.coalesce(inbox_message.c.read_at, func.now()))
                .returning(*inbox_message.c)
            )
        )
        .mappings()
        .first()
    )
    return Message(**row) if row else None
