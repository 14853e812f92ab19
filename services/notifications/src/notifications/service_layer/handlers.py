"""Notifications use cases: fill each person's inbox from events, and let them read it."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.adapters import repository
from notifications.domain.messages import Message, child_registered
from qosym_contracts.registry import ChildRegisteredV1


async def notify_child_registered(session: AsyncSession, event: ChildRegisteredV1) -> None:
    message = child_registered(event.guardian_id, event.child_id, event.region_code, event.district_code)
    await repository.add_message(session, message)


async def mark_read(sessions: async_sessionmaker[AsyncSession], message_id: UUID, person_id: UUID) -> Message | None:
    async with sessions() as session, session.begin():
        return await repository.mark_read(session, message_id, person_id)
