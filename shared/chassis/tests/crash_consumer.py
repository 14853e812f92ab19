"""A consumers process for the crash tests (run as a script): one topic, a batch subscriber, the effect table.

``python crash_consumer.py DATABASE_URL BOOTSTRAP TOPIC GROUP``; armed by QOSYM_FAULT_KILL_AT, it dies at that
point of its first batch (qosym_chassis.consumer._kill_point)."""

from __future__ import annotations

import asyncio
import sys
from typing import Literal

from faststream.kafka import KafkaBroker
from pydantic import create_model
from sqlalchemy import Column, MetaData, Table, Text, insert
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis.consumer import EventConsumer
from qosym_chassis.db import make_engine, make_session_factory
from qosym_contracts.envelope import IntegrationEvent

effect = Table(
    "effect",
    MetaData(),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("note", Text, nullable=False),
)


def happened_on(topic: str) -> type[IntegrationEvent]:
    kind = create_model(
        "Happened",
        __base__=IntegrationEvent,
        event_type=(Literal["test.Happened"], "test.Happened"),
        event_version=(Literal[1], 1),
        thing_id=(str, ...),
    )
    kind.topic, kind.key_field = topic, "thing_id"
    return kind


async def record(session: AsyncSession, event: IntegrationEvent) -> None:
    await session.execute(insert(effect).values(event_id=event.event_id, note="applied"))


def consumer_of(database_url: str, topic: str, group: str) -> EventConsumer:
    engine = make_engine(database_url, application_name="crash-consumer")
    consumer = EventConsumer(service=group, engine=engine, session_factory=make_session_factory(engine))
    consumer.on(happened_on(topic), record)
    return consumer


async def main(database_url: str, bootstrap: str, topic: str, group: str) -> None:
    consumer = consumer_of(database_url, topic, group)
    broker = KafkaBroker(bootstrap)
    consumer.subscribe(broker)
    await broker.start()
    await asyncio.Event().wait()  # until the kill point ends the process


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
