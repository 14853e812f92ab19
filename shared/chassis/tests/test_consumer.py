"""The consumer wrapper against a real database: dedup, retries, dead letters, operator retry."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Literal

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from pydantic import create_model
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis import dead_letters
from qosym_chassis.consumer import EventConsumer, IncomingMessage, Outcome, Reject
from qosym_chassis.db import make_engine, make_session_factory
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.registry import ChildRegisteredV1

from .conftest import effect

pytestmark = pytest.mark.component


def child_event() -> ChildRegisteredV1:
    return ChildRegisteredV1(
        child_id=uuid.uuid4(),
        guardian_id=uuid.uuid4(),
        birth_date=date(2016, 1, 1),
        sex="F",
        region_code="astana",
        district_code="yesil",
    )


def message(event: ChildRegisteredV1) -> IncomingMessage:
    return IncomingMessage(topic=event.topic, body=event.model_dump_json().encode())


def wrapper(engine, handler, max_attempts: int = 3) -> EventConsumer:
    consumer = EventConsumer(
        service="test",
        engine=engine,
        session_factory=make_session_factory(engine),
        max_attempts=max_attempts,
        backoff_base_s=0.01,
        backoff_max_s=0.02,
    )
    consumer.on(ChildRegisteredV1, handler)
    return consumer


async def record_effect(session: AsyncSession, event: ChildRegisteredV1) -> None:
    await session.execute(insert(effect).values(event_id=event.event_id, note="applied"))


async def effects(engine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(effect))).scalar_one())


async def test_a_redelivered_event_is_applied_once_even_concurrently(engine):
    consumer = wrapper(engine, record_effect)
    event = child_event()
    outcomes = await asyncio.gather(*(consumer.deliver(message(event)) for _ in range(10)))
    again = await consumer.deliver(message(event))
    assert sorted(o.value for o in outcomes).count("applied") == 1
    assert again is Outcome.DUPLICATE
    assert await effects(engine) == 1


async def test_malformed_bytes_become_a_dead_letter_and_the_next_message_is_applied(engine):
    consumer = wrapper(engine, record_effect)
    poison = await consumer.deliver(IncomingMessage(topic="registry.child.v1", body=b"\xff not json"))
    wrong_shape = await consumer.deliver(
        IncomingMessage(topic="registry.child.v1", body=b'{"event_type": "registry.ChildRegistered", "sex": 3}')
    )
    good = await consumer.deliver(message(child_event()))
    assert (poison, wrong_shape, good) == (Outcome.DEAD_LETTERED, Outcome.DEAD_LETTERED, Outcome.APPLIED)
    listed = await dead_letters.list_dead_letters(engine)
    assert [d.error.split(":")[0] for d in listed] == ["malformed message", "malformed message"]
    assert await effects(engine) == 1


async def test_the_same_malformed_bytes_on_two_topics_are_two_dead_letters_and_a_redelivery_is_one(engine):
    """A poison record is known by where it was read (topic, partition, offset, key) and its bytes: the same bytes
    arriving on another topic must not be folded into the first one's dead letter, losing where they came from;
    the same record read again (a redelivery) refreshes its own."""
    consumer = wrapper(engine, record_effect)
    same = b"{chaos poison: this is not json"
    first = IncomingMessage(topic="catalog.review.v1", body=same, key="k1", partition=1, offset=0)
    other = IncomingMessage(topic="allocation.application.v1", body=same, key="k2", partition=3, offset=7)
    outcomes = [await consumer.deliver(m) for m in (first, other, first)]
    assert outcomes == [Outcome.DEAD_LETTERED] * 3
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text('select topic, msg_key, partition, "offset", attempts from dead_letter order by id')
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("catalog.review.v1", "k1", 1, 0, 2),
        ("allocation.application.v1", "k2", 3, 7, 1),
    ]


async def test_an_unknown_event_type_is_ignored_not_dead_lettered(engine):
    consumer = wrapper(engine, record_effect)
    outcome = await consumer.deliver(IncomingMessage(topic="registry.child.v1", body=b'{"event_type": "x.Other"}'))
    assert outcome is Outcome.IGNORED
    assert await dead_letters.list_dead_letters(engine) == []


async def test_a_failing_handler_is_retried_then_dead_lettered_and_changes_nothing(engine):
    calls = 0

    async def broken(session: AsyncSession, event: ChildRegisteredV1) -> None:
        nonlocal calls
        calls += 1
        await record_effect(session, event)
        raise ValueError("bug in handler")

    consumer = wrapper(engine, broken, max_attempts=3)
    outcome = await consumer.deliver(message(child_event()))
    assert outcome is Outcome.DEAD_LETTERED
    assert calls == 3
    assert await effects(engine) == 0  # every attempt rolled back
    [letter] = await dead_letters.list_dead_letters(engine)
    assert letter.attempts == 3 and "bug in handler" in letter.error


async def test_a_rejected_event_is_dead_lettered_at_once(engine):
    async def refuse(session: AsyncSession, event: ChildRegisteredV1) -> None:
        raise Reject("unknown region")

    consumer = wrapper(engine, refuse)
    assert await consumer.deliver(message(child_event())) is Outcome.DEAD_LETTERED
    [letter] = await dead_letters.list_dead_letters(engine)
    assert letter.attempts == 1


async def test_an_operator_retry_applies_a_dead_letter_once_fixed(engine):
    healthy = False

    async def flaky(session: AsyncSession, event: ChildRegisteredV1) -> None:
        if not healthy:
            raise RuntimeError("dependency missing")
        await record_effect(session, event)

    consumer = wrapper(engine, flaky, max_attempts=1)
    event = child_event()
    assert await consumer.deliver(message(event)) is Outcome.DEAD_LETTERED
    assert await consumer.retry_requested_dead_letters() == 0  # nobody asked yet
    healthy = True
    assert await dead_letters.request_retry(engine) == 1
    assert await consumer.retry_requested_dead_letters() == 1
    assert await effects(engine) == 1
    assert await dead_letters.list_dead_letters(engine) == []
    assert await consumer.deliver(message(event)) is Outcome.DUPLICATE


def happened_on(topic: str, event_type: str) -> type[IntegrationEvent]:
    kind = create_model(
        "Happened",
        __base__=IntegrationEvent,
        event_type=(Literal[event_type], event_type),
        event_version=(Literal[1], 1),
        thing_id=(str, ...),
    )
    kind.topic, kind.key_field = topic, "thing_id"
    return kind


async def note_topic(session: AsyncSession, event: IntegrationEvent) -> None:
    await session.execute(insert(effect).values(event_id=event.event_id, note=event.topic))


async def test_one_group_member_consumes_every_topic_of_the_service_and_acknowledges_each_event(
    engine, stack_servers
) -> None:
    """A consumers process is ONE member of its group, whatever the number of topics: aiokafka's start waits for
    the member's assignment and FastStream starts subscribers one by one, so a member per topic made each restart
    as many successive rebalances as topics."""
    bootstrap = stack_servers.state.kafka_bootstrap_servers
    topics = [f"test.consumer.{uuid.uuid4().hex[:8]}.v1" for _ in range(3)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(name, 2, 1) for name in topics])
    await admin.close()
    consumer = EventConsumer(
        service=f"test-{uuid.uuid4().hex[:8]}", engine=engine, session_factory=make_session_factory(engine)
    )
    kinds = [happened_on(topic, f"test.Happened{n}") for n, topic in enumerate(topics)]
    for kind in kinds:
        consumer.on(kind, note_topic)
    broker = KafkaBroker(bootstrap)
    consumer.subscribe(broker)
    [subscriber] = broker.subscribers
    assert sorted(t.name for t in subscriber.topics) == sorted(topics)

    events = [kind(thing_id=str(n)) for n, kind in enumerate(kinds) for _ in range(2)]
    await broker.start()
    try:
        for event in events:
            await broker.publish(event.model_dump_json().encode(), topic=event.topic, key=event.message_key.encode())
        for _ in range(300):
            if await effects(engine) == len(events):
                break
            await asyncio.sleep(0.2)
    finally:
        await broker.stop()
    async with engine.connect() as conn:
        applied = (await conn.execute(select(effect.c.event_id, effect.c.note))).all()
    assert sorted((e, n) for e, n in applied) == sorted((e.event_id, e.topic) for e in events)

    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=consumer.service, enable_auto_commit=False)
    await reader.start()
    try:
        partitions = [TopicPartition(topic, p) for topic in topics for p in range(2)]
        ends = await reader.end_offsets(partitions)
        committed = {tp: await reader.committed(tp) or 0 for tp in partitions}
    finally:
        await reader.stop()
    assert committed == ends  # every event acknowledged after its effect committed


async def test_a_consumer_without_pre_ping_applies_the_next_event_after_its_connections_were_killed(engine):
    """The consumers' engine skips the pool's pre-ping (context.build_context): a dead pooled connection (a database
    restart) costs one retry on a fresh connection, never an event."""
    url = engine.url.render_as_string(hide_password=False)
    unpinged = make_engine(url, application_name="chassis-no-ping", pool_size=2, pre_ping=False)
    try:
        consumer = wrapper(unpinged, record_effect)
        assert await consumer.deliver(message(child_event())) is Outcome.APPLIED
        async with engine.connect() as conn:
            killed = await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'chassis-no-ping' AND datname = current_database()"
                )
            )
            assert killed.all()  # the consumer's pooled connection is gone
        assert await consumer.deliver(message(child_event())) is Outcome.APPLIED
    finally:
        await unpinged.dispose()
    assert await effects(engine) == 2
    assert await dead_letters.list_dead_letters(engine) == []


async def test_a_subscription_table_binds_each_handler_to_the_services_dependencies(engine):
    seen: list[tuple[str, uuid.UUID]] = []

    async def on_child_registered(deps: str, session: AsyncSession, event: ChildRegisteredV1) -> None:
        seen.append((deps, event.child_id))
        await session.execute(insert(effect).values(event_id=event.event_id, note=deps))

    consumer = EventConsumer(service="test", engine=engine, session_factory=make_session_factory(engine))
    consumer.route({ChildRegisteredV1: on_child_registered}, "the deps")
    assert consumer.topics == [ChildRegisteredV1.topic]
    event = child_event()
    assert await consumer.deliver(message(event)) is Outcome.APPLIED
    assert seen == [("the deps", event.child_id)]
    async with engine.connect() as connection:
        assert (await connection.execute(select(effect.c.note))).scalar_one() == "the deps"
