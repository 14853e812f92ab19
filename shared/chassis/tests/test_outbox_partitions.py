"""The relay's own record batches (qosym_chassis.relay_producer.PartitionBatches) against the real database and the
real Kafka-protocol broker: every key on the partition aiokafka's producer puts it on, a partition's messages over
several record batches in order, and failures of a partition batch (lost acknowledgement, refusal, a producer that
stopped) that mark nothing."""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError, ProducerClosed
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from qosym_chassis import outbox
from qosym_chassis.db import make_session_factory
from qosym_chassis.outbox import OUTBOX, BatchPublish, HandedOver, OutboxRelay, OutgoingMessage
from qosym_chassis.relay_producer import (
    PartitionBatches,
    ProducerSender,
    is_refused,
    make_producer,
    murmur2,
    murmur2_many,
    producer_sender,
)
from qosym_contracts.envelope import IntegrationEvent

PARTITIONS = 3


class Happened(IntegrationEvent):
    topic: ClassVar[str] = ""
    key_field: ClassVar[str] = "thing_id"
    event_type: Literal["test.Happened"] = "test.Happened"
    event_version: Literal[1] = 1
    thing_id: str
    n: int
    blob: str = ""


def kind(topic: str) -> type[Happened]:
    return type("Happened", (Happened,), {"topic": topic})


# Kafka's own test vectors (clients' UtilsTest.testMurmur2), Java's signed ints
JAVA_VECTORS = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


def test_murmur2_is_kafkas_and_picks_the_partition_aiokafkas_default_partitioner_picks() -> None:
    for data, signed in JAVA_VECTORS.items():
        assert murmur2(data) == signed & 0xFFFFFFFF
    rng = random.Random(17)
    keys = [str(uuid.UUID(int=rng.getrandbits(128))).encode() for _ in range(2_000)]
    keys += [rng.randbytes(rng.randrange(0, 64)) for _ in range(5_000)]
    keys += ["ключ-Алматы-%d" % n for n in range(200)]  # noqa: UP031 - non-ASCII keys, every tail length
    partitioner = DefaultPartitioner()
    for key in keys:
        data = key if isinstance(key, bytes) else key.encode()
        assert murmur2(data) == aiokafka_murmur2(data)
        for count in (1, 3, 12):
            every = list(range(count))
            assert every[(murmur2(data) & 0x7FFFFFFF) % count] == partitioner(data, every, every)


@pytest.fixture
async def topics(stack_servers) -> tuple[str, str]:
    run = uuid.uuid4().hex[:8]
    names = (f"test.partitions.{run}.v1", f"test.partitions.{run}.raw.v1")
    admin = AIOKafkaAdminClient(bootstrap_servers=stack_servers.state.kafka_bootstrap_servers)
    await admin.start()
    await admin.create_topics([NewTopic(name, PARTITIONS, 1) for name in names])
    await admin.close()
    return names


@pytest.fixture
async def producer(stack_servers) -> AsyncIterator[AIOKafkaProducer]:
    made = make_producer(
        stack_servers.state.kafka_bootstrap_servers,
        client_id="chassis-test-partitions",
        idempotence=os.environ.get("QOSYM_KAFKA_IDEMPOTENCE") == "true",
    )
    await made.start()
    yield made
    await made.stop()


async def stage(engine: AsyncEngine, staged: list[Happened]) -> None:
    sessions = make_session_factory(engine)
    async with sessions() as session, session.begin():
        await outbox.add_events(session, staged)


async def read_topic(bootstrap: str, topic: str, count: int) -> list[tuple[int, str, int]]:
    """(partition, key, n) of the topic's messages, per partition in offset order, until ``count`` came and no
    more does."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    received: list[tuple[int, str, int]] = []
    try:
        async with asyncio.timeout(60):
            while True:
                batch = await consumer.getmany(timeout_ms=1_000 if len(received) >= count else 500)
                if not batch and len(received) >= count:
                    return received
                for tp, records in batch.items():
                    received += [(tp.partition, r.key.decode(), json.loads(r.value)["n"]) for r in records]
    finally:
        await consumer.stop()


def per_key(received: list[tuple[int, str, int]]) -> dict[str, list[int]]:
    sequences: dict[str, list[int]] = {}
    for _, key, n in received:
        sequences.setdefault(key, []).append(n)
    return sequences


async def unpublished(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(OUTBOX).where(OUTBOX.c.published_at.is_(None)).order_by(OUTBOX.c.id))
        return [dict(r) for r in rows.mappings()]


async def drain(relay: OutboxRelay) -> list[int]:
    sizes = [await relay.publish_pending()]
    while sizes[-1]:
        sizes.append(await relay.publish_pending())
    return sizes


@pytest.mark.component
async def test_every_key_lands_on_the_partition_the_producers_own_send_puts_it_on_in_order(
    engine, topics, producer, stack_servers
):
    relayed, raw = topics
    keys = [str(uuid.uuid4()) for _ in range(60)] + ["k1", "a-little-bit-longer-string", "ключ"]
    staged = [kind(relayed)(thing_id=key, n=n) for n in range(4) for key in keys]
    await stage(engine, staged)
    sender = producer_sender(producer)
    assert isinstance(sender, BatchPublish)  # the relay takes the batch path

    assert await drain(OutboxRelay(engine, sender, batch_size=100)) == [100, 100, 52, 0]
    for event in staged:  # what aiokafka's send (its default partitioner) does with the same keys
        await producer.send(raw, value=b'{"n":%d}' % event.n, key=event.thing_id.encode())
    await producer.flush()

    bootstrap = stack_servers.state.kafka_bootstrap_servers
    received = await read_topic(bootstrap, relayed, len(staged))
    expected = await read_topic(bootstrap, raw, len(staged))
    assert len(received) == len(staged)
    assert {key: p for p, key, _ in received} == {key: p for p, key, _ in expected}
    assert len({p for p, _, _ in received}) == PARTITIONS
    assert per_key(received) == {key: [0, 1, 2, 3] for key in keys}
    assert await unpublished(engine) == []


@pytest.mark.component
async def test_a_partitions_rows_over_several_record_batches_keep_their_order(engine, topics, producer, stack_servers):
    """40 rows of 60 kB on one key: 2.4 MB for one partition, beyond one record batch (512 KiB), in one relay
    batch."""
    relayed, _ = topics
    staged = [kind(relayed)(thing_id="big", n=n, blob="x" * 60_000) for n in range(40)]
    staged += [kind(relayed)(thing_id=f"small{n % 5}", n=n) for n in range(50)]
    await stage(engine, staged)

    assert await drain(OutboxRelay(engine, producer_sender(producer))) == [90, 0]

    received = await read_topic(stack_servers.state.kafka_bootstrap_servers, relayed, len(staged))
    assert per_key(received) == {
        "big": list(range(40)),
        **{f"small{k}": [n for n in range(50) if n % 5 == k] for k in range(5)},
    }


class BrokerAnswers:
    """The real sender, except that the broker answers the partition batch holding one message (``n``, key
    ``key``) with ``error``, once or always, after the batch really went out (only its acknowledgement fails)."""

    def __init__(self, sender: ProducerSender, *, key: str, n: int, error: Exception, once: bool) -> None:
        self.sender, self.key, self.n, self.error, self.once = sender, key, n, error, once
        self.answered = 0

    def _hit(self, message: OutgoingMessage) -> bool:
        return message.key == self.key and message.payload["n"] == self.n and not (self.once and self.answered)

    async def __call__(self, message: OutgoingMessage) -> Any:
        acknowledgement = await self.sender(message)
        if self._hit(message):
            self.answered += 1
            await acknowledgement
            failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            failed.set_exception(self.error)
            return failed
        return acknowledgement

    def batch(self) -> Any:
        answers = self

        class Batch:
            def __init__(self, inner: PartitionBatches) -> None:
                self.inner, self.messages = inner, []

            def add(self, message: OutgoingMessage) -> None:
                self.inner.add(message)
                self.messages.append(message)

            async def send(self, handed_over: list[HandedOver]) -> None:
                await self.inner.send(handed_over)
                for n, (indices, acknowledgement) in enumerate(handed_over):
                    if any(answers._hit(self.messages[i]) for i in indices):
                        answers.answered += 1
                        await acknowledgement
                        failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                        failed.set_exception(answers.error)
                        handed_over[n] = (indices, failed)
                        break

        return Batch(self.sender.batch())


@pytest.mark.component
async def test_a_partition_batch_whose_acknowledgement_is_lost_marks_nothing_and_the_whole_batch_goes_again(
    engine, topics, producer, stack_servers
):
    relayed, _ = topics
    keys = [f"k{k}" for k in range(9)]
    staged = [kind(relayed)(thing_id=key, n=n) for n in range(50) for key in keys]
    await stage(engine, staged)
    sender = BrokerAnswers(
        producer_sender(producer), key="k4", n=20, error=KafkaTimeoutError("acknowledgement timed out"), once=True
    )
    relay = OutboxRelay(engine, sender)

    with pytest.raises(KafkaTimeoutError):
        await relay.publish_pending()
    rows = await unpublished(engine)
    assert len(rows) == len(staged)  # the other partitions' batches were acknowledged: nothing is marked still
    [failed] = [r for r in rows if r["attempts"]]
    assert "timed out" in failed["last_error"]
    partition_of = {key: (murmur2(key.encode()) & 0x7FFFFFFF) % PARTITIONS for key in keys}
    # the first row of the failed partition batch: the first row, in id order, of a key on k4's partition
    assert failed["msg_key"] == next(key for key in keys if partition_of[key] == partition_of["k4"])
    assert failed["payload"]["n"] == 0

    assert await drain(relay) == [len(staged), 0]
    received = await read_topic(stack_servers.state.kafka_bootstrap_servers, relayed, 2 * len(staged))
    assert per_key(received) == {key: list(range(50)) * 2 for key in keys}  # at least once, in order per key


@pytest.mark.component
async def test_a_partition_batch_the_broker_refuses_is_searched_one_message_at_a_time(
    engine, topics, producer, stack_servers
):
    relayed, _ = topics
    await stage(engine, [kind(relayed)(thing_id=key, n=n) for n in range(3) for key in ("big", "k1", "k2", "k3")])
    sender = BrokerAnswers(
        producer_sender(producer), key="big", n=1, error=MessageSizeTooLargeError("message.max.bytes"), once=False
    )
    relay = OutboxRelay(engine, sender, refused=is_refused)

    with pytest.raises(MessageSizeTooLargeError):
        await relay.publish_pending()  # which message of the partition batch, the error does not say
    assert len(await unpublished(engine)) == 12

    assert await relay.publish_pending() == 10  # one at a time: the refused row set aside, its key waits
    assert [(r["msg_key"], r["payload"]["n"]) for r in await unpublished(engine)] == [("big", 1), ("big", 2)]
    assert [r["msg_key"] for r in await outbox.refused(engine)] == ["big"]
    await stage(engine, [kind(relayed)(thing_id="k1", n=3)])
    assert await relay.publish_pending() == 1  # batches again
    received = await read_topic(stack_servers.state.kafka_bootstrap_servers, relayed, 12 + 11 + 1)
    assert per_key(received)["k1"] == [0, 1, 2, 0, 1, 2, 3]


@pytest.mark.component
async def test_a_producer_that_stopped_hands_nothing_over_and_nothing_is_marked(engine, topics, stack_servers):
    relayed, _ = topics
    staged = [kind(relayed)(thing_id=f"k{n % 4}", n=n) for n in range(20)]
    await stage(engine, staged)
    stopped = make_producer(stack_servers.state.kafka_bootstrap_servers, client_id="chassis-stopped", idempotence=False)
    await stopped.start()
    await stopped.partitions_for(relayed)  # it knew the topic: what fails is the hand-over itself
    await stopped.stop()

    with pytest.raises(ProducerClosed):
        await OutboxRelay(engine, producer_sender(stopped)).publish_pending()
    rows = await unpublished(engine)
    assert len(rows) == 20 and [r["attempts"] for r in rows] == [1] + [0] * 19


def test_murmur2_of_many_keys_at_once_is_murmur2_of_each() -> None:
    rng = random.Random(3)
    for length in [*range(0, 41), 36, 64]:
        keys = [rng.randbytes(length) for _ in range(rng.randrange(1, 200))]
        keys += [rng.randbytes(rng.randrange(0, 8)) for _ in range(20)]  # other lengths in between
        rng.shuffle(keys)
        assert murmur2_many(keys) == [aiokafka_murmur2(key) for key in keys]
    assert murmur2_many([]) == []
    uuids = [str(uuid.uuid4()).encode() for _ in range(1_000)]
    assert murmur2_many(uuids) == [murmur2(key) for key in uuids]


@pytest.mark.component
async def test_a_refusal_in_one_batch_holds_back_its_keys_rows_in_the_batch_read_meanwhile(
    engine, topics, producer, stack_servers
):
    """``drain`` reads batch k+1 while batch k goes out: a row of k refused for good (too large for the producer)
    must hold back the rows of its key that batch k+1 holds, though k+1 was read before the refusal."""
    relayed, _ = topics
    make = kind(relayed)
    await stage(
        engine,
        [
            make(thing_id="k1", n=0),
            make(thing_id="big", n=0, blob="x" * 1_200_000),
            make(thing_id="k2", n=0),
            make(thing_id="big", n=1),
            make(thing_id="k1", n=1),
            make(thing_id="big", n=2),
            make(thing_id="k2", n=1),
        ],
    )
    relay = OutboxRelay(engine, producer_sender(producer), batch_size=3, refused=is_refused)

    assert await relay.drain() == 4
    assert [(r["msg_key"], r["payload"]["n"]) for r in await unpublished(engine)] == [
        ("big", 0),
        ("big", 1),
        ("big", 2),
    ]
    received = await read_topic(stack_servers.state.kafka_bootstrap_servers, relayed, 4)
    assert per_key(received) == {"k1": [0, 1], "k2": [0, 1]}


@pytest.mark.component
async def test_a_topic_that_came_back_with_fewer_partitions_gets_every_row_on_a_partition_it_has(
    engine, producer, stack_servers
):
    """A broker that restarted empty and had its topics auto-created by a consumer (tansu: 4 partitions, not the 12
    declared) under a producer that still holds the old metadata: the relay's next batch goes to partitions the
    broker lists now, not to ones it forgot (tansu acknowledges those, and no consumer is ever assigned them)."""
    bootstrap = stack_servers.state.kafka_bootstrap_servers
    topic = f"test.partitions.{uuid.uuid4().hex[:8]}.shrunk.v1"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 12, 1)])
        await stage(engine, [kind(topic)(thing_id=f"before{n}", n=n) for n in range(24)])
        relay = OutboxRelay(engine, producer_sender(producer))
        assert await drain(relay) == [24, 0]
        assert len(await producer.partitions_for(topic)) == 12  # the producer's metadata: 12 partitions

        await admin.delete_topics([topic])
        await admin.create_topics([NewTopic(topic, 4, 1)])
        keys = [str(uuid.uuid4()) for _ in range(80)]
        await stage(engine, [kind(topic)(thing_id=key, n=n) for n, key in enumerate(keys)])
        assert await drain(relay) == [80, 0]
    finally:
        await admin.close()

    received = await read_topic(bootstrap, topic, len(keys))  # a consumer of the topic: its 4 partitions
    assert sorted(key for _, key, _ in received) == sorted(keys)
    assert {p for p, _, _ in received} <= {0, 1, 2, 3}
