"""Notifications use cases: fill each person's inbox from events, and let them read it."""

from __future__ import annotations

from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.adapters import repository
from notifications.domain.messages import Message, child_registered, sms
from qosym_contracts.registry import ChildRegisteredV1


async def notify_child_registered(session: AsyncSession, event: ChildRegisteredV1) -> None:
    message = child_registered(event.guardian_id, event.child_id, event.region_code, event.district_code)
    await repository.add_message(session, message)


async def mark_read(sessions: async_sessionmaker[AsyncSession], message_id: UUID, person_id: UUID) -> Message | None:
    async with sessions() as session, session.begin():
        return await repository.mark_read(session, message_id, person_id)


async def deliver_sms(sessions: async_sessionmaker[AsyncSession], person_id: UUID, text: str) -> UUID:
    """Development SMS gateway stand-in: the text lands in the person's inbox (never in a log)."""
    message_id = uuid4()
    async with sessions() as session, session.begin():
        await repository.add_message(session, sms(person_id, message_id, text))
    return message_id
