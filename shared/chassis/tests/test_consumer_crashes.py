"""A consumers process killed in the middle of a batch (the fault hook, ``os._exit``): nothing lost, nothing twice.

Before the commit the whole batch is rolled back and the broker hands all of it again; after the commit (offsets not
yet acknowledged) it is handed again too, and the inbox makes the committed part a no-op."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis import dead_letters, inbox
from qosym_contracts.envelope import IntegrationEvent

from .crash_consumer import consumer_of, effect, happened_on, record

pytestmark = pytest.mark.component

SCRIPT = Path(__file__).with_name("crash_consumer.py")


async def rows(engine, table) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def committed_offsets(bootstrap: str, group: str, topic: str) -> tuple[int, int]:
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        partition = TopicPartition(topic, 0)
        end = (await reader.end_offsets([partition]))[partition]
        return (await reader.committed(partition)) or 0, end
    finally:
        await reader.stop()


@pytest.mark.parametrize("kill_point", ["before_commit", "after_commit"])
async def test_a_consumer_killed_in_a_batch_applies_every_event_once_after_its_restart(
    engine, stack_servers, tmp_path, kill_point
) -> None:
    bootstrap = stack_servers.state.kafka_bootstrap_servers
    topic, group = f"test.crash.{uuid.uuid4().hex[:8]}.v1", f"test-crash-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1)])
    await admin.close()
    kind = happened_on(topic)
    events: list[IntegrationEvent] = [kind(thing_id=str(n % 4)) for n in range(40)]
    broker = KafkaBroker(bootstrap)
    await broker.start()
    try:
        for event in events:
            await broker.publish(event.model_dump_json().encode(), topic=topic, key=event.message_key.encode())
    finally:
        await broker.stop()

    marker = tmp_path / "fired"
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "QOSYM_FAULT_KILL_AT": kill_point, "QOSYM_FAULT_MARKER": str(marker)}
    armed = await asyncio.create_subprocess_exec(sys.executable, str(SCRIPT), url, bootstrap, topic, group, env=env)
    try:
        returncode = await asyncio.wait_for(armed.wait(), timeout=120)
    except TimeoutError:
        armed.kill()
        raise AssertionError(f"the consumer did not die at {kill_point} within 120 s") from None
    assert returncode == 137
    point, event_type, event_id = marker.read_text().split()
    assert (point, event_type) == (kill_point, "test.Happened")
    assert uuid.UUID(event_id) in {e.event_id for e in events}

    applied_before = await rows(engine, effect)
    if kill_point == "before_commit":
        assert (applied_before, await rows(engine, inbox.INBOX)) == (0, 0)  # the whole batch rolled back
    else:
        assert applied_before > 1  # the batch committed (several events), its offsets never acknowledged
        assert await rows(engine, inbox.INBOX) == applied_before
    assert (await committed_offsets(bootstrap, group, topic))[0] == 0

    calls = 0

    async def counted(session: AsyncSession, event: IntegrationEvent) -> None:
        nonlocal calls
        calls += 1
        await record(session, event)

    consumer = consumer_of(url, topic, group)
    consumer.on(kind, counted)
    restarted = KafkaBroker(bootstrap)
    consumer.subscribe(restarted)
    await restarted.start()
    try:
        for _ in range(600):
            if await rows(engine, effect) == len(events):
                break
            await asyncio.sleep(0.2)
        for _ in range(100):  # the acknowledgement follows the commit
            committed, end = await committed_offsets(bootstrap, group, topic)
            if committed == end:
                break
            await asyncio.sleep(0.2)
    finally:
        await restarted.stop()
    assert await rows(engine, effect) == len(events)
    assert calls == len(events) - applied_before  # what the dead process committed is a no-op for the inbox
    assert await dead_letters.unresolved_count(engine) == 0
    assert committed == end == len(events)
