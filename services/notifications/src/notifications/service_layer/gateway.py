"""Development SMS gateway stand-in: a text lands in the person's inbox (never in a log)."""

from __future__ import annotations

from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.domain.messages import sms
from notifications.service_layer.fanout import store
from qosym_chassis.clock import Clock


async def deliver_sms(sessions: async_sessionmaker[AsyncSession], clock: Clock, person_id: UUID, text: str) -> UUID:
    message_id = uuid4()
    async with sessions() as session, session.begin():
        await store(session, sms(person_id, message_id, text), clock.now())
    return message_id
