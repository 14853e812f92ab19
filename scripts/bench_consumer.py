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

    uv run --frozen python scripts/bench_consumer.py --count 20000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
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
from qosym_chassis.relay_producer import encode_payload, make_producer
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
    records = [(e.topic, encode_payload(e.model_dump(mode="json")), e.message_key.encode()) for e in events]
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
    for name, batch_max in (("per event", 1), (f"batched ({args.batch_max})", args.batch_max)):
        async with scratch_database(server_url, "catalog") as url:
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
            }
        )
    print(machine())
    print(f"{load_before} before, {load()} after; {n:,} events produced in {produce_s:.2f} s ({n / produce_s:,.0f}/s)")
    if args.json:
        for result in results:
            print(json.dumps({**result, "load": load_before, "produce_seconds": produce_s}))
        return
    per_event = next(r for r in results if r["name"] == "per event")
    print(f"{'':<18}{'events':>8}{'seconds':>10}{'events/s':>11}{'× raw':>8}{'× per event':>13}")
    for r in results:
        print(
            f"{r['name']:<18}{r['n']:>8,}{r['seconds']:>10.2f}{r['rate']:>11,.0f}{r['ratio']:>8.3f}"
            f"{r['rate'] / per_event['rate']:>13.2f}"
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
    parser.add_argument("--json", action="store_true", help="one JSON object per result line")
    args = parser.parse_args()
    on_broker(args.kafka, lambda bootstrap: on_postgres(args.server_url, lambda url: bench(url, bootstrap, args)))


if __name__ == "__main__":
    main()
