"""Benchmark a real service's consumer through the broker: one event per transaction against a batch per poll.

A throwaway embedded PostgreSQL (or --server-url) and a throwaway tansu broker (or --kafka). N registry events as
catalog consumes them (half ``ChildRegistered``, half ``GuardianshipEstablished``, one key per child, on their real
topics with three partitions each) are produced once, before any clock starts (the produce time is printed). Then,
each reading all N from the beginning with a consumer group of its own:

1. ``raw consume``: an aiokafka consumer (``getmany``, what FastStream's batch subscriber calls) until N records
   came, nothing applied: what the broker and the client can deliver, the baseline;
2. ``per event``: catalog's consumers process as ``qosym up`` runs it with ``QOSYM_CONSUMER_BATCH_MAX=1`` (its
   ``register``, its settings, FastStream's subscriber with the telemetry and Prometheus middlewares, tracing set
   up without an exporter), in a database of its own migrated for catalog, until every event is in its inbox;
3. ``batched``: the same with ``QOSYM_CONSUMER_BATCH_MAX`` (default: the setting's default), in another database.

Each clock starts once the group member has its assignment (``broker.start()`` returned) and stops when the last
event is applied (polled every 50 ms); the rate counts the events applied after the clock started. Afterwards each
database must hold every child and guardianship once, no dead letter and no parked event.
``--json`` prints one JSON object per line (name, n, seconds, rate, baseline, ratio, ...).

``--replicas 1,2`` compares consumer processes instead (``qosym up --replicas catalog=N``): after the same raw
baseline, for each N a consumer group of its own made of N separate processes of this script (``--member``), each
one catalog consumers member with the batch path, in a database of its own. The clock starts once the group is
stable with all N members (the broker's DescribeGroups; a member that joined first may have applied some events
before, they are not counted) and stops when the last event is applied.

    uv run --frozen python scripts/bench_consumer.py --count 20000
    uv run --frozen python scripts/bench_consumer.py --count 20000 --replicas 1,2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from benchdb import machine, on_postgres, scratch_database

from catalog.config import CatalogSettings
from catalog.entrypoints.consumers import register
from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import build_context
from qosym_chassis.relay_producer import make_producer
from qosym_cli import servers
from qosym_cli.ports import free_port
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.registry import ChildRegisteredV1, GuardianshipEstablishedV1
from qosym_contracts.topics import ALL_TOPICS

PARTITIONS = {topic.name: topic.partitions for topic in ALL_TOPICS}


def registry_events(count: int) -> list[IntegrationEvent]:
    events: list[IntegrationEvent] = []
    for _ in range(count // 2):
        child_id, guardian_id = uuid.uuid4(), uuid.uuid4()
        events.append(
            ChildRegisteredV1(
                child_id=child_id,
                guardian_id=guardian_id,
                birth_date=date(2016, 1, 1),
                sex="F",
                region_code="astana",
                district_code="yesil",
            )
        )
        events.append(GuardianshipEstablishedV1(child_id=child_id, guardian_id=guardian_id))
    return events


async def create_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, PARTITIONS.get(name, 3), 1) for name in names])
    finally:
        await admin.close()


async def produce(bootstrap: str, events: list[IntegrationEvent]) -> float:
    # the event's JSON as the outbox stores it
    records = [(e.topic, e.model_dump_json().encode(), e.message_key.encode()) for e in events]
    producer = make_producer(bootstrap, client_id="bench-produce", idempotence=False)
    await producer.start()
    try:
        started = time.perf_counter()
        acks = [await producer.send(t, value=v, key=k) for t, v, k in records]
        await asyncio.gather(*acks)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def raw_consume(bootstrap: str, topics: list[str], count: int) -> float:
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        started = time.perf_counter()
        seen = 0
        async with asyncio.timeout(600):
            while seen < count:
                batch = await consumer.getmany(timeout_ms=200, max_records=500)
                seen += sum(len(records) for records in batch.values())
                if batch:
                    await consumer.commit()
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def applied(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM inbox"))
    finally:
        await conn.close()


def member_context(url: str, bootstrap: str, batch_max: int, group: str) -> tuple[Any, EventConsumer]:
    settings = CatalogSettings(
        database_url=url,
        kafka_bootstrap_servers=bootstrap,
        consumer_batch_max=batch_max,
        dev_mode=True,
        log_level="WARNING",
    )
    ctx = build_context(settings, "consumers")
    consumer = EventConsumer(
        service=group,
        engine=ctx.engine,
        session_factory=ctx.session_factory,
        max_attempts=settings.consumer_max_attempts,
        backoff_base_s=settings.consumer_backoff_base_s,
        backoff_max_s=settings.consumer_backoff_max_s,
        batch_max=settings.consumer_batch_max,
    )
    register(consumer, ctx)
    consumer.subscribe(ctx.broker)
    return ctx, consumer


async def member(url: str, bootstrap: str, batch_max: int, group: str) -> None:
    """One consumers process of the group (``--member``): consumes until SIGTERM."""
    ctx, _ = member_context(url, bootstrap, batch_max, group)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await ctx.broker.start()
        await stop.wait()
    finally:
        await ctx.close()


async def stable_members(bootstrap: str, group: str) -> int:
    """How many members the group has once the broker calls it stable (0 while it rebalances)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_consumer_groups([group])
        _, _, state, _, _, members, *_ = described.groups[0]
        return len(members) if state == "Stable" else 0
    finally:
        await admin.close()


async def through_processes(url: str, bootstrap: str, batch_max: int, count: int, n: int) -> tuple[float, int]:
    """(seconds from the group being stable with ``n`` member processes until all applied, events applied then)."""
    group = f"catalog-bench-{uuid.uuid4().hex[:6]}"
    command = [sys.executable, __file__, "--member", url, bootstrap, str(batch_max), group]
    members = [await asyncio.create_subprocess_exec(*command) for _ in range(n)]
    try:
        async with asyncio.timeout(300):
            while await stable_members(bootstrap, group) != n:  # noqa: ASYNC110 - polls the broker
                await asyncio.sleep(0.2)
        started = time.perf_counter()
        print(f"{n} member processes in a stable group; {await applied(url)} events applied before", file=sys.stderr)
        before = await applied(url)
        async with asyncio.timeout(1800):
            while await applied(url) < count:  # noqa: ASYNC110 - polls the database, nothing to wait on
                await asyncio.sleep(0.05)
        return time.perf_counter() - started, count - before
    finally:
        for process in members:
            process.send_signal(signal.SIGTERM)
        for process in members:
            await asyncio.wait_for(process.wait(), timeout=60)


async def through_consumer(url: str, bootstrap: str, batch_max: int, count: int) -> tuple[float, int]:
    """(seconds from the member's assignment until all applied, events applied in that time)."""
    settings = CatalogSettings(
        database_url=url,
        kafka_bootstrap_servers=bootstrap,
        consumer_batch_max=batch_max,
        dev_mode=True,
        log_level="WARNING",
    )
    ctx = build_context(settings, "consumers")
    consumer = EventConsumer(
        service=f"catalog-bench-{uuid.uuid4().hex[:6]}",  # a group of its own, reading from the beginning
        engine=ctx.engine,
        session_factory=ctx.session_factory,
        max_attempts=settings.consumer_max_attempts,
        backoff_base_s=settings.consumer_backoff_base_s,
        backoff_max_s=settings.consumer_backoff_max_s,
        batch_max=settings.consumer_batch_max,
    )
    register(consumer, ctx)
    consumer.subscribe(ctx.broker)
    try:
        await ctx.broker.start()
        started = time.perf_counter()
        before = await applied(url)
        async with asyncio.timeout(1800):
            while await applied(url) < count:  # noqa: ASYNC110 - polls the database, nothing to wait on
                await asyncio.sleep(0.05)
        return time.perf_counter() - started, count - before
    finally:
        await ctx.close()


async def check(url: str, count: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        children = await conn.fetchval("SELECT count(*) FROM child")
        guardianships = await conn.fetchval("SELECT count(*) FROM guardianship")
        letters = await conn.fetchval("SELECT count(*) FROM dead_letter")
        parked = await conn.fetchval("SELECT count(*) FROM parked_event")
    finally:
        await conn.close()
    assert (children, guardianships, letters, parked) == (count // 2, count // 2, 0, 0), (
        children,
        guardianships,
        letters,
        parked,
    )


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


async def bench(server_url: str, bootstrap: str, args: argparse.Namespace) -> None:
    events = registry_events(args.count)
    n = len(events)
    probe = EventConsumer(service="catalog", engine=None, session_factory=None)  # type: ignore[arg-type]
    register(probe, None)
    await create_topics(bootstrap, probe.topics)
    load_before = load()
    produce_s = await produce(bootstrap, events)
    baseline_s = await raw_consume(bootstrap, [ChildRegisteredV1.topic, GuardianshipEstablishedV1.topic], n)
    baseline = n / baseline_s
    results: list[dict[str, Any]] = [
        {"name": "raw consume", "n": n, "seconds": baseline_s, "rate": baseline, "baseline": baseline, "ratio": 1.0}
    ]
    runs: list[tuple[str, int, int]] = (
        [(f"{r} process{'es' if r > 1 else ''}", args.batch_max, r) for r in args.replicas]
        if args.replicas
        else [("per event", 1, 0), (f"batched ({args.batch_max})", args.batch_max, 0)]
    )
    for name, batch_max, processes in runs:
        async with scratch_database(server_url, "catalog") as url:
            if processes:
                seconds, counted = await through_processes(url, bootstrap, batch_max, n, processes)
            else:
                seconds, counted = await through_consumer(url, bootstrap, batch_max, n)
            await check(url, n)
        rate = counted / seconds
        results.append(
            {
                "name": name,
                "n": counted,
                "seconds": seconds,
                "rate": rate,
                "baseline": baseline,
                "ratio": rate / baseline,
                "batch_max": batch_max,
                **({"processes": processes} if processes else {}),
            }
        )
    print(machine())
    print(f"{load_before} before, {load()} after; {n:,} events produced in {produce_s:.2f} s ({n / produce_s:,.0f}/s)")
    if args.json:
        for result in results:
            print(json.dumps({**result, "load": load_before, "produce_seconds": produce_s}))
        return
    first = results[1]  # per event, or one process
    print(f"{'':<18}{'events':>8}{'seconds':>10}{'events/s':>11}{'× raw':>8}{'× ' + first['name']:>16}")
    for r in results:
        print(
            f"{r['name']:<18}{r['n']:>8,}{r['seconds']:>10.2f}{r['rate']:>11,.0f}{r['ratio']:>8.3f}"
            f"{r['rate'] / first['rate']:>16.2f}"
        )


def on_broker(kafka: str | None, job: Any) -> None:
    if kafka:
        job(kafka)
        return
    home = Path(tempfile.mkdtemp(prefix="qosym-bench-kafka-"))
    (home / "logs").mkdir()
    port = free_port(set())
    pid = servers.start_kafka(home, port)
    try:
        job(f"127.0.0.1:{port}")
    finally:
        servers.stop_process(pid)
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    if sys.argv[1:2] == ["--member"]:  # one member process of --replicas (started by this script)
        url, bootstrap, batch_max, group = sys.argv[2:6]
        asyncio.run(member(url, bootstrap, int(batch_max), group))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000, help="events (default 20,000)")
    parser.add_argument(
        "--batch-max",
        type=int,
        default=CatalogSettings.model_fields["consumer_batch_max"].default,
        help="QOSYM_CONSUMER_BATCH_MAX of the batched run (default: the setting's default)",
    )
    parser.add_argument("--server-url", help="a PostgreSQL server URL (default: a throwaway embedded one)")
    parser.add_argument("--kafka", help="bootstrap servers of a broker (default: a throwaway tansu)")
    parser.add_argument(
        "--replicas",
        type=lambda text: [int(n) for n in text.split(",")],
        help="compare consumer processes in one group instead, e.g. 1,2 (qosym up --replicas catalog=N)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per result line")
    args = parser.parse_args()
    on_broker(args.kafka, lambda bootstrap: on_postgres(args.server_url, lambda url: bench(url, bootstrap, args)))


if __name__ == "__main__":
    main()
