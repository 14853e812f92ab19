"""Inbox: a consumer records each event id in the same transaction as its effect."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis.outbox import TABLES

INBOX = TABLES.inbox


async def claim(session: AsyncSession, *, consumer: str, event_id: UUID, topic: str) -> bool:
    """True the first time (consumer, event_id) is seen; False for a redelivery.

    A concurrent duplicate blocks on the primary key until the first transaction ends.
    """
    result = await session.execute(
        insert(INBOX)
        .values(consumer=consumer, event_id=event_id, topic=topic)
        .on_conflict_do_nothing()
        .returning(INBOX.c.event_id)
    )
    return result.first() is not None
