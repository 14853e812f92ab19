"""Two consumers processes of one service (``qosym up --replicas SERVICE=2``): two members of one consumer group.

On the real broker, two ``EventConsumer`` members of one group (each with its own broker connection and database
engine, as two processes have) share the topic's partitions, apply every event exactly once and keep each key's
order; when one stops, the other takes its partitions over in a rebalance and goes on from the committed offsets,
still applying each event once and in order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Literal

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from pydantic import create_model
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qosym_chassis import dead_letters
from qosym_chassis.consumer import EventConsumer
from qosym_chassis.db import make_engine, make_session_factory
from qosym_contracts.envelope import IntegrationEvent

pytestmark = pytest.mark.component

PARTITIONS = 6
KEYS = 12
PER_KEY = 10  # events per key in each phase


def stepped_on(topic: str) -> type[IntegrationEvent]:
    kind = create_model(
        "Stepped",
        __base__=IntegrationEvent,
        event_type=(Literal["test.Stepped"], "test.Stepped"),
        event_version=(Literal[1], 1),
        thing_id=(str, ...),
        step=(int, ...),
    )
    kind.topic, kind.key_field = topic, "thing_id"
    return kind


class Member:
    """One consumers process: its own engine, its own broker connection, the service's group."""

    def __init__(self, name: str, url: str, bootstrap: str, group: str, kind: type[IntegrationEvent]) -> None:
        self.name = name
        self.engine = make_engine(url, application_name=f"member-{name}")
        self.consumer = EventConsumer(
            service=group, engine=self.engine, session_factory=make_session_factory(self.engine)
        )
        self.consumer.on(kind, self.apply)
        self.broker = KafkaBroker(bootstrap)
        self.consumer.subscribe(self.broker)
        self.running = False

    async def apply(self, session: AsyncSession, event: IntegrationEvent) -> None:
        await session.execute(
            text("INSERT INTO applied (event_id, thing_id, step, member) VALUES (:id, :thing, :step, :member)"),
            {"id": event.event_id, "thing": event.thing_id, "step": event.step, "member": self.name},  # type: ignore[attr-defined]
        )

    def assignment(self) -> set[TopicPartition]:
        if not self.running:
            return set()
        (subscriber,) = self.broker.subscribers
        consumer = subscriber.consumer  # type: ignore[attr-defined]
        return set(consumer.assignment()) if consumer is not None else set()

    async def start(self) -> None:
        await self.broker.start()
        self.running = True

    async def stop(self) -> None:
        if self.running:
            self.running = False
            await self.broker.stop()
        await self.engine.dispose()


async def until(condition: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 120.0) -> None:
    """Wait for the condition (polling the broker or the database); fail naming it after ``timeout_s``."""
    try:
        async with asyncio.timeout(timeout_s):
            while not await condition():  # noqa: ASYNC110 - polls the broker and the database
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"not within {timeout_s:.0f} s: {what}") from None


async def scalar(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def offsets(bootstrap: str, group: str, topic: str) -> tuple[int, int]:
    """(committed, end) summed over the topic's partitions, as the group sees them."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await reader.end_offsets(partitions)
        committed = [await reader.committed(tp) or 0 for tp in partitions]
        return sum(committed), sum(ends.values())
    finally:
        await reader.stop()


async def publish(bootstrap: str, events: list[IntegrationEvent]) -> None:
    broker = KafkaBroker(bootstrap)
    await broker.start()
    try:
        for event in events:  # one key's events in order: each lands on its key's partition after the one before
            await broker.publish(event.model_dump_json().encode(), topic=event.topic, key=event.message_key.encode())
    finally:
        await broker.stop()


async def test_two_members_of_one_group_share_the_partitions_and_apply_every_event_once_in_order_across_a_rebalance(
    engine, stack_servers
) -> None:
    bootstrap = stack_servers.state.kafka_bootstrap_servers
    topic, group = f"test.members.{uuid.uuid4().hex[:8]}.v1", f"test-members-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    await admin.close()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TABLE applied (event_id uuid PRIMARY KEY, thing_id text NOT NULL, step int NOT NULL, "
                "member text NOT NULL, seq bigserial NOT NULL)"
            )
        )
    kind = stepped_on(topic)
    keys = [f"thing-{n}" for n in range(KEYS)]

    def phase(first_step: int) -> list[IntegrationEvent]:
        return [kind(thing_id=key, step=step) for step in range(first_step, first_step + PER_KEY) for key in keys]

    url = engine.url.render_as_string(hide_password=False)
    a, b = (Member(name, url, bootstrap, group, kind) for name in ("a", "b"))
    everything = {TopicPartition(topic, p) for p in range(PARTITIONS)}
    try:
        await asyncio.gather(a.start(), b.start())

        async def shared() -> bool:
            mine, theirs = a.assignment(), b.assignment()
            return bool(mine) and bool(theirs) and not mine & theirs and mine | theirs == everything

        await until(shared, "the two members split the partitions between them")

        first = phase(0)
        await publish(bootstrap, first)
        await until(lambda: _count_is(engine, len(first)), "phase 1 applied")
        async with engine.connect() as conn:
            owners = dict(
                (await conn.execute(text("SELECT thing_id, array_agg(DISTINCT member) FROM applied GROUP BY 1"))).all()
            )
        assert all(len(members) == 1 for members in owners.values()), owners  # a key's partition has one owner
        by_member = {member for (member,) in owners.values()}
        assert by_member == {"a", "b"}, "both members applied a share of the events"
        moved = {key for key, (member,) in owners.items() if member == "b"}

        second = phase(PER_KEY)
        early = 2 * KEYS  # two steps of every key, then b leaves while they are being applied
        await publish(bootstrap, second[:early])
        await until(lambda: _count_is(engine, len(first) + 1, at_least=True), "phase 2 has begun")
        await b.stop()  # leaves the group mid-stream: a rebalance hands its partitions to a
        await publish(bootstrap, second[early:])

        async def a_owns_everything() -> bool:
            return a.assignment() == everything

        await until(a_owns_everything, "the remaining member took every partition over")
        total = len(first) + len(second)
        await until(lambda: _count_is(engine, total), "every event applied")

        async def acknowledged() -> bool:
            committed, end = await offsets(bootstrap, group, topic)
            return committed == end == total

        await until(acknowledged, "every offset committed")
    finally:
        await asyncio.gather(a.stop(), b.stop())

    assert await scalar(engine, "SELECT count(DISTINCT event_id) FROM applied") == total
    assert {e.event_id for e in (*first, *second)} == set(await _ids(engine))
    async with engine.connect() as conn:
        steps = (
            await conn.execute(text("SELECT thing_id, array_agg(step ORDER BY seq) FROM applied GROUP BY 1"))
        ).all()
        late = (
            (
                await conn.execute(
                    text("SELECT DISTINCT thing_id FROM applied WHERE member = 'a' AND step >= :s"), {"s": PER_KEY + 2}
                )
            )
            .scalars()
            .all()
        )
    assert {key: list(applied) for key, applied in steps} == {key: list(range(2 * PER_KEY)) for key in keys}
    assert moved & set(late), "keys b had applied were applied by a after the rebalance"
    assert await dead_letters.unresolved_count(engine) == 0


async def _count_is(engine: AsyncEngine, n: int, *, at_least: bool = False) -> bool:
    count = await scalar(engine, "SELECT count(*) FROM applied")
    return count >= n if at_least else count == n


async def _ids(engine: AsyncEngine) -> list[uuid.UUID]:
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT event_id FROM applied"))).scalars().all())
