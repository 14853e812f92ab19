"""Benchmark the outbox relay: N staged rows to the broker, against a raw producer in the same run.

A throwaway embedded PostgreSQL (or --server-url) with allocation's migrations, a throwaway tansu broker (or
--kafka), N outbox rows as allocation writes them when it closes a round (ApplicationWaitlistedV1, one key per
application, each row with a request's traceparent), inserted before the clock starts. Then:

1. ``raw producer``: an aiokafka producer with the relay's settings (qosym_chassis.relay_producer) sends the
   same N messages (bodies, keys and headers built before the clock starts) to a topic of its own, and waits
   for every acknowledgement: what the broker and the client can do, the ceiling;
2. ``relay``: ``OutboxRelay.publish_pending`` (what the relay process loops over while rows are pending, with
   tracing set up as the relay process sets it up, no exporter; ``--untraced``: no tracer provider) until no
   row is pending: each batch read, sent, acknowledged
   and marked published.

Each line also gives the benchmark process's CPU time per row over the phase (``time.process_time``: the Python
side only, PostgreSQL and the broker excluded), which depends far less on what else loads the machine than the
rates do. Afterwards every row must be marked published and the relay's topic must hold N messages more than before.
``--json`` prints one JSON object per line (name, n, seconds, rate, baseline, ratio, ...).

    uv run --frozen python scripts/bench_relay.py --count 50000
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
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from benchdb import machine, on_postgres, scratch_database
from opentelemetry import propagate, trace

from qosym_chassis import outbox
from qosym_chassis.db import make_engine
from qosym_chassis.outbox import OutboxRelay
from qosym_chassis.relay_producer import is_refused, make_producer, producer_sender
from qosym_chassis.settings import ServiceSettings
from qosym_chassis.telemetry import setup_tracing, shutdown_tracing
from qosym_cli import servers
from qosym_cli.ports import free_port
from qosym_contracts.allocation import ApplicationWaitlistedV1

PARTITIONS = 3  # what every allocation topic has (qosym_contracts.topics)


def staged_events(count: int) -> list[ApplicationWaitlistedV1]:
    round_id = uuid.uuid4()
    return [
        ApplicationWaitlistedV1(application_id=uuid.uuid4(), round_id=round_id, child_id=uuid.uuid4(), position=n + 1)
        for n in range(count)
    ]


async def stage(url: str, events: list[ApplicationWaitlistedV1], topic: str) -> None:
    """The rows ``outbox.add_event`` writes, in bulk: the bench times the relay, not the insert."""
    tracer = trace.get_tracer("bench")
    with tracer.start_as_current_span("allocate"):
        headers: dict[str, str] = {}
        propagate.inject(headers)
    conn = await asyncpg.connect(url)
    try:
        await conn.executemany(
            "INSERT INTO outbox (event_id, event_type, topic, msg_key, payload, headers)"
            " VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)",
            [
                (
                    e.event_id,
                    e.event_type,
                    topic,
                    e.message_key,
                    json.dumps(e.model_dump(mode="json")),
                    json.dumps(headers),
                )
                for e in events
            ],
        )
    finally:
        await conn.close()


async def create_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, PARTITIONS, 1) for name in names])
    finally:
        await admin.close()


async def event_ids_in(bootstrap: str, topic: str, expected: int) -> list[str]:
    """The event_id header of every message of the topic, read from the beginning (tansu's end offsets are not
    message counts, so the topic is read until ``expected`` messages came and nothing more does)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    ids: list[str] = []
    try:
        async with asyncio.timeout(120):
            while True:
                batch = await consumer.getmany(timeout_ms=1_000 if len(ids) >= expected else 5_000)
                if not batch and len(ids) >= expected:
                    return ids
                for records in batch.values():
                    ids += [dict(r.headers)["event_id"].decode() for r in records]
    finally:
        await consumer.stop()


def raw_headers(event: ApplicationWaitlistedV1) -> list[tuple[str, bytes]]:
    """The headers a relayed message carries (qosym_chassis.outbox): the staged traceparent, id and type."""
    event_id = str(event.event_id).encode()
    return [
        ("traceparent", b"00-" + b"0" * 32 + b"-" + b"0" * 16 + b"-01"),
        ("content-type", b"application/json"),
        ("correlation_id", event_id),
        ("event_id", event_id),
        ("event_type", event.event_type.encode()),
    ]


async def raw_producer(bootstrap: str, topic: str, events: list[ApplicationWaitlistedV1]) -> tuple[float, float]:
    records = [
        (
            json.dumps(e.model_dump(mode="json"), separators=(",", ":")).encode(),
            e.message_key.encode(),
            raw_headers(e),
        )
        for e in events
    ]
    producer = make_producer(bootstrap, client_id="bench-raw", idempotence=False)
    await producer.start()
    try:
        started, cpu = time.perf_counter(), time.process_time()
        acks = [await producer.send(topic, value=v, key=k, headers=h) for v, k, h in records]
        await asyncio.gather(*acks)
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        await producer.stop()


async def relay(url: str, bootstrap: str, batch_size: int) -> tuple[float, float]:
    engine = make_engine(url, application_name="bench-relay")
    producer = make_producer(bootstrap, client_id="bench-relay", idempotence=False)
    await producer.start()
    try:
        publisher = OutboxRelay(engine, producer_sender(producer), batch_size=batch_size, refused=is_refused)
        started, cpu = time.perf_counter(), time.process_time()
        while await publisher.drain():
            pass
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        assert await outbox.backlog(engine) == 0, "rows left unpublished"
        return seconds, cpu_s
    finally:
        await producer.stop()
        await engine.dispose()


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


async def bench(server_url: str, bootstrap: str, args: argparse.Namespace) -> None:
    run = uuid.uuid4().hex[:8]
    relay_topic, raw_topic = f"bench.relay.{run}.v1", f"bench.raw.{run}.v1"
    await create_topics(bootstrap, [relay_topic, raw_topic])
    events = staged_events(args.count)
    load_before = load()
    if not args.untraced:
        setup_tracing("bench-relay", "relay", args.traces_file)
    async with scratch_database(server_url, "allocation") as url:
        await stage(url, events, relay_topic)
        baseline_s, baseline_cpu = await raw_producer(bootstrap, raw_topic, events)
        relay_s, relay_cpu = await relay(url, bootstrap, args.batch_size)
    shutdown_tracing()
    staged = sorted(str(e.event_id) for e in events)
    assert len(await event_ids_in(bootstrap, raw_topic, args.count)) == args.count, "the raw producer lost messages"
    assert sorted(await event_ids_in(bootstrap, relay_topic, args.count)) == staged, "the relay lost or duplicated"
    n, baseline = args.count, args.count / baseline_s
    results: list[dict[str, Any]] = [
        {
            "name": "raw producer",
            "n": n,
            "seconds": baseline_s,
            "rate": baseline,
            "baseline": baseline,
            "ratio": 1.0,
            "cpu_us_per_row": baseline_cpu / n * 1e6,
        },
        {
            "name": f"relay (batch {args.batch_size})",
            "n": n,
            "seconds": relay_s,
            "rate": n / relay_s,
            "baseline": baseline,
            "ratio": (n / relay_s) / baseline,
            "cpu_us_per_row": relay_cpu / n * 1e6,
        },
    ]
    print(machine())
    tracing = "untraced" if args.untraced else "traced"
    print(
        f"{load_before} before, {load()} after; {n:,} rows, {PARTITIONS} partitions, batch {args.batch_size}, {tracing}"
    )
    if args.json:
        for result in results:
            print(
                json.dumps({**result, "batch_size": args.batch_size, "traced": not args.untraced, "load": load_before})
            )
        return
    print(f"{'':<20}{'seconds':>10}{'rows/s':>12}{'× raw':>8}{'CPU µs/row':>12}")
    for r in results:
        print(f"{r['name']:<20}{r['seconds']:>10.2f}{r['rate']:>12,.0f}{r['ratio']:>8.2f}{r['cpu_us_per_row']:>12.1f}")


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
    parser.add_argument("--count", type=int, default=50_000, help="outbox rows (default 50,000)")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=ServiceSettings.model_fields["outbox_batch_size"].default,
        help="rows per relay batch (default: QOSYM_OUTBOX_BATCH_SIZE's default)",
    )
    parser.add_argument("--server-url", help="a PostgreSQL server URL (default: a throwaway embedded one)")
    parser.add_argument("--kafka", help="bootstrap servers of a broker (default: a throwaway tansu)")
    parser.add_argument("--traces-file", type=Path, help="write the spans to this OTLP JSON lines file")
    parser.add_argument("--untraced", action="store_true", help="no tracer provider (spans cost nothing)")
    parser.add_argument("--json", action="store_true", help="one JSON object per result line")
    args = parser.parse_args()
    on_broker(args.kafka, lambda bootstrap: on_postgres(args.server_url, lambda url: bench(url, bootstrap, args)))


if __name__ == "__main__":
    main()
