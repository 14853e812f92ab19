"""A batch's outgoing events staged in one statement (``qosym_chassis.outbox.add_event`` for many).

The rows are those ``add_event`` writes, one per event in the given order, with the current trace context, and one
notification delivered at commit wakes the relay. When the chassis gains a multi-row form of its own, this module
gives way to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import propagate
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis.outbox import OUTBOX, WAKE_CHANNEL
from qosym_contracts.envelope import IntegrationEvent


async def add_events(session: AsyncSession, events: Sequence[IntegrationEvent]) -> None:
    if not events:
        return
    headers: dict[str, str] = {}
    propagate.inject(headers)
    staged = (
        insert(OUTBOX)
        .values(
            [
                {
                    "event_id": event.event_id,
                    "event_type": event.event_type,
                    "topic": event.topic,
                    "msg_key": event.message_key,
                    "payload": event.model_dump(mode="json"),
                    "headers": headers,
                }
                for event in events
            ]
        )
        .returning(OUTBOX.c.id)
        .cte("staged")
    )
    await session.execute(select(func.pg_notify(WAKE_CHANNEL, "")).select_from(staged).limit(1))
