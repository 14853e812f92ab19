"""Driving the running stack from tests: its databases, its processes, its broker."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext
from qosym_chassis.db import make_engine, make_session_factory
from qosym_cli.bench.common import EndReader
from qosym_cli.paths import SERVICES, roles_of
from qosym_cli.processes import is_alive
from qosym_cli.stack import LocalStack
from qosym_contracts.topics import ALL_TOPICS
from tests.support.waiting import eventually

PARTITIONS = {topic.name: topic.partitions for topic in ALL_TOPICS}


def db_value(stack: LocalStack, service: str, sql: str, *args: Any) -> Any:
    async def run() -> Any:
        conn = await asyncpg.connect(stack.state.database_urls[service].replace("+asyncpg", ""))
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def kill(stack: LocalStack, name: str, sig: signal.Signals = signal.SIGKILL, grace_s: float = 30.0) -> None:
    """Signal a process of the stack and wait until it is gone; a SIGTERM not obeyed within ``grace_s`` is
    followed by SIGKILL (a graceful shutdown may be finishing a batch or leaving its consumer group)."""
    record = stack.reload().processes[name]
    assert record.pid is not None, f"{name} is not running"
    os.kill(int(record.pid), sig)
    deadline = time.monotonic() + (grace_s if sig != signal.SIGKILL else 5.0)
    while time.monotonic() < deadline:
        if not stack.is_running(record):
            return
        time.sleep(0.05)
    if sig != signal.SIGKILL:
        kill(stack, name, signal.SIGKILL)
        return
    raise AssertionError(f"{name} did not stop")


def restart_stopped_services(stack: LocalStack) -> list[str]:
    started = stack.start_services()
    stack.wait_until_ready(timeout_s=180)
    return started


def produce(stack: LocalStack, topic: str, value: bytes, key: bytes | None = None) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=stack.state.kafka_bootstrap_servers, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    asyncio.run(run())


@dataclass(frozen=True)
class Record:
    """One message as it is on the topic: its exact bytes, its key, and the event it carries."""

    key: bytes | None
    value: bytes
    event: dict[str, Any]


def topic_records(stack: LocalStack, topic: str, match: Callable[[dict[str, Any]], bool]) -> list[Record]:
    """Every message of ``topic`` whose event satisfies ``match``, read from the start up to its current end with a
    fresh consumer (no group offsets are touched)."""

    async def read() -> list[Record]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=stack.state.kafka_bootstrap_servers,
            group_id=f"e2e-reader-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in range(PARTITIONS[topic])]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await true_ends(stack, partitions)
            found: list[Record] = []

            async def behind() -> bool:
                return any([await consumer.position(tp) < ends[tp] for tp in partitions])

            while await behind():
                batch = await consumer.getmany(timeout_ms=1000)
                for records in batch.values():
                    for record in records:
                        try:
                            event = json.loads(record.value)
                        except ValueError:
                            continue  # a poison message a fault test produced
                        if isinstance(event, dict) and match(event):
                            found.append(Record(record.key, record.value, event))
            return found
        finally:
            await consumer.stop()

    return asyncio.run(read())


async def true_ends(stack: LocalStack, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    """Each partition's end (the next record's offset), right on tansu too, whose listed end is its last record
    batch's base offset plus one (qosym_cli.bench.common.EndReader): reading up to the listed end alone would stop
    before the rest of a batch the relay published."""
    reader = EndReader(stack.state.kafka_bootstrap_servers or "")
    await reader.start()
    try:
        return await reader.ends(partitions)
    finally:
        await reader.stop()


def consumed_topics(service: str) -> list[str]:
    """The topics a service's consumers subscribe to (what its ``register`` hooks up; nothing connects)."""
    engine = make_engine("postgresql://docs@127.0.0.1/none", application_name="e2e")
    consumer = EventConsumer(service=service, engine=engine, session_factory=make_session_factory(engine))
    importlib.import_module(f"{service}.entrypoints.consumers").register(consumer, cast(ServiceContext, None))
    return consumer.topics


def consumer_lag(stack: LocalStack, service: str) -> int:
    """Messages on the service's topics its consumer group has not acknowledged yet."""
    topics = consumed_topics(service)

    async def measure() -> int:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=stack.state.kafka_bootstrap_servers, group_id=service, enable_auto_commit=False
        )
        await consumer.start()
        try:
            partitions = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS[t])]
            ends = await true_ends(stack, partitions)
            return sum([max(0, ends[tp] - (await consumer.committed(tp) or 0)) for tp in partitions])
        finally:
            await consumer.stop()

    return asyncio.run(measure())


CONSUMING_SERVICES = tuple(s for s in SERVICES if "consumers" in roles_of(s))


def drained(stack: LocalStack, timeout_s: float = 300) -> None:
    """Wait until every service's consumer group has acknowledged everything on its topics (after a replay,
    say), so the next journey's events do not queue behind a backlog."""
    for service in CONSUMING_SERVICES:
        eventually(lambda s=service: consumer_lag(stack, s) == 0, timeout_s=timeout_s)


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """``os.environ`` with these values while the block runs: processes the stack starts inside inherit them."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def restart(stack: LocalStack, names: tuple[str, ...], **env: str) -> None:
    """Stop these processes gracefully and start them again (with ``env`` added to their environment)."""
    for name in names:
        kill(stack, name, signal.SIGTERM)
    with environment(**env):
        restart_stopped_services(stack)


@dataclass
class Crash:
    """Where an armed consumer killed itself, and on which event (read from the fault hook's marker file)."""

    kill_point: str
    event_type: str = ""
    event_id: str = ""


@contextmanager
def crashes_once(stack: LocalStack, name: str, kill_point: str, marker: Path) -> Iterator[Crash]:
    """Run the consumers process ``name`` armed with the chassis's fault hook: the first event it applies kills it
    at ``kill_point`` (``before_commit``: the handler's writes are done, the transaction is not committed;
    ``after_commit``: committed, not acknowledged to the broker) with ``os._exit``, no clean-up of any kind.

    The block does what makes it reach that point; on leaving, it waits until the process died there and
    starts it again normally, so the broker redelivers what was not acknowledged. It is armed only once the
    service's group has acknowledged everything before, so nothing earlier reaches the kill point. The yielded
    ``Crash`` names the event it died on once the block is left.

    Nothing else may wait for the stack's readiness while it is armed (the process dying then fails that wait):
    nest it inside ``shifted_clock``, not around it."""
    service = name.rsplit("-", 1)[0]
    eventually(lambda: consumer_lag(stack, service) == 0, timeout_s=60)
    marker.unlink(missing_ok=True)
    restart(stack, (name,), QOSYM_FAULT_KILL_AT=kill_point, QOSYM_FAULT_MARKER=str(marker))
    armed = stack.reload().processes[name].pid
    crash = Crash(kill_point)
    yield crash
    deadline = time.monotonic() + 60
    while not (marker.exists() and not is_alive(armed)):
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} did not crash at {kill_point} within 60 s")
        time.sleep(0.1)
    point, crash.event_type, crash.event_id = marker.read_text().split()
    assert point == kill_point
    restart_stopped_services(stack)


@contextmanager
def shifted_clock(
    stack: LocalStack,
    services: tuple[str, ...],
    offset_s: int,
    roles: tuple[str, ...] = ("api", "consumers", "relay"),
) -> Iterator[None]:
    """Run the services' processes with their clock shifted by ``offset_s`` (QOSYM_CLOCK_OFFSET_S, dev mode only).

    The processes are restarted shifted, and restarted on the real clock afterwards, so the rest of the run is
    unaffected. Use it to act "next month" (submit last month's timesheets, pass a deadline) on a live stack.
    ``roles=("api",)`` shifts only the API (decisions taken through it), leaving the consumers' group in place.
    """
    names = tuple(f"{service}-{role}" for service in services for role in roles)
    restart(stack, names, QOSYM_CLOCK_OFFSET_S=str(offset_s))
    try:
        yield
    finally:
        restart(stack, names, QOSYM_CLOCK_OFFSET_S="0")
