"""The outbox and its relay against a real database and the real Kafka-protocol broker."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Literal

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from sqlalchemy import select, update

from qosym_chassis import outbox
from qosym_chassis.broker import broker_publisher
from qosym_chassis.db import make_session_factory
from qosym_chassis.outbox import OUTBOX, OutboxRelay, OutgoingMessage
from qosym_chassis.telemetry import setup_tracing
from qosym_contracts.envelope import IntegrationEvent

pytestmark = pytest.mark.component


def event_class(topic: str) -> type[IntegrationEvent]:
    class Happened(IntegrationEvent):
        topic: ClassVar[str]
        key_field: ClassVar[str] = "thing_id"
        event_type: Literal["test.Happened"] = "test.Happened"
        event_version: Literal[1] = 1
        thing_id: str
        n: int

    Happened.topic = topic
    return Happened


@pytest.fixture
async def topic(stack_servers) -> str:
    name = f"test.outbox.{uuid.uuid4().hex[:8]}.v1"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack_servers.state.kafka_bootstrap_servers)
    await admin.start()
    await admin.create_topics([NewTopic(name, 2, 1)])
    await admin.close()
    return name


async def stage(engine, events: list[IntegrationEvent], *, commit: bool = True) -> None:
    sessions = make_session_factory(engine)
    async with sessions() as session, session.begin() as transaction:
        for event in events:
            await outbox.add_event(session, event)
        if not commit:
            await transaction.rollback()


async def rows(engine) -> list[dict]:
    async with engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(select(OUTBOX).order_by(OUTBOX.c.id))).mappings()]


async def read_topic(bootstrap: str, topic: str, count: int) -> list[tuple[bytes, dict]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    received: list[tuple[bytes, dict]] = []
    try:
        async with asyncio.timeout(20):
            while len(received) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    received += [(r.key, json.loads(r.value)) for r in records]
    finally:
        await consumer.stop()
    return received


async def test_a_rolled_back_transaction_stages_nothing_and_a_committed_one_keeps_the_trace(engine, topic):
    Happened = event_class(topic)
    await stage(engine, [Happened(thing_id="a", n=1)], commit=False)
    assert await rows(engine) == []
    provider = setup_tracing("chassis-test", "test")
    with provider.get_tracer("test").start_as_current_span("request") as span:
        await stage(engine, [Happened(thing_id="a", n=2)])
    [row] = await rows(engine)
    assert row["published_at"] is None and row["msg_key"] == "a" and row["payload"]["n"] == 2
    assert row["headers"]["traceparent"].split("-")[1] == format(span.get_span_context().trace_id, "032x")


async def test_the_relay_publishes_in_order_per_key_and_marks_rows_after_the_ack(engine, topic, stack_servers):
    Happened = event_class(topic)
    await stage(engine, [Happened(thing_id=key, n=n) for n in range(5) for key in ("x", "y")])
    broker = KafkaBroker(stack_servers.state.kafka_bootstrap_servers)
    await broker.connect()
    try:
        relay = OutboxRelay(engine, broker_publisher(broker), batch_size=3)
        while await relay.publish_pending():
            pass
    finally:
        await broker.stop()
    assert all(r["published_at"] is not None for r in await rows(engine))
    received = await read_topic(stack_servers.state.kafka_bootstrap_servers, topic, 10)
    for key in (b"x", b"y"):
        assert [body["n"] for k, body in received if k == key] == [0, 1, 2, 3, 4]


async def test_an_unreachable_broker_leaves_rows_pending_and_they_go_out_later(engine, topic):
    Happened = event_class(topic)
    await stage(engine, [Happened(thing_id="a", n=1), Happened(thing_id="a", n=2)])
    sent: list[int] = []

    async def down(message: OutgoingMessage) -> None:
        raise ConnectionError("broker unreachable")

    async def up(message: OutgoingMessage) -> None:
        sent.append(message.payload["n"])

    failing = OutboxRelay(engine, down)
    with pytest.raises(ConnectionError):
        await failing.publish_pending()
    await failing.release()  # the lease is free at once for the next relay
    first, second = await rows(engine)
    assert first["published_at"] is None and first["attempts"] == 1 and "unreachable" in first["last_error"]
    assert second["attempts"] == 0  # the batch stops at the first failure: order is kept
    assert await OutboxRelay(engine, up).publish_pending() == 2
    assert sent == [1, 2]


async def test_only_one_relay_is_active_at_a_time(engine):
    async def ignore(message: OutgoingMessage) -> None:
        return None

    stop = asyncio.Event()
    first, second = OutboxRelay(engine, ignore), OutboxRelay(engine, ignore)
    tasks = [asyncio.create_task(first.run(stop))]
    await asyncio.sleep(0.5)
    tasks.append(asyncio.create_task(second.run(stop)))
    await asyncio.sleep(0.5)
    assert (first.active, second.active) == (True, False)
    stop.set()
    await asyncio.gather(*tasks)


async def test_replay_marks_the_window_again_and_pruning_keeps_the_window(engine, topic):
    Happened = event_class(topic)
    await stage(engine, [Happened(thing_id="a", n=1), Happened(thing_id="b", n=2)])

    async def ignore(message: OutgoingMessage) -> None:
        return None

    await OutboxRelay(engine, ignore).publish_pending()
    async with engine.begin() as conn:
        await conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.msg_key == "a")
            .values(
                created_at=datetime.now(UTC) - timedelta(days=9), published_at=datetime.now(UTC) - timedelta(days=9)
            )
        )
    assert await outbox.request_replay(engine, datetime.now(UTC) - timedelta(hours=1)) == 1
    assert await outbox.backlog(engine) == 1
    assert await OutboxRelay(engine, ignore, replay_window=timedelta(days=7)).prune() == 1
    assert [r["msg_key"] for r in await rows(engine)] == ["b"]


async def test_a_commit_wakes_the_relay_without_waiting_for_the_poll(engine, topic):
    Happened = event_class(topic)
    sent: list[int] = []
    published = asyncio.Event()

    async def record(message: OutgoingMessage) -> None:
        sent.append(message.payload["n"])
        published.set()

    stop = asyncio.Event()
    relay = OutboxRelay(engine, record, poll_interval_s=60)
    running = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0.5)  # the relay has published nothing and now sleeps for a minute
    await stage(engine, [Happened(thing_id="a", n=7)])
    async with asyncio.timeout(5):
        await published.wait()
    stop.set()
    await running
    assert sent == [7]
