"""What every ``qosym bench`` command shares: the figures it prints, the stack it runs against, when the event
pipeline is quiet, and the baselines measured in the same run (docs/performance.md, "Benchmark commands").

A figure is a :class:`Figure`: ``seconds`` for ``n`` items (``rate`` = n / seconds), the same-run ``baseline`` in the
same unit as the figure's ``ratio`` compares (``ratio = measured / baseline``: 1 is as fast as the raw path, 10 is ten
times slower). HTTP figures add latency percentiles and the count of errors.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from rich.table import Table

from qosym_cli import output
from qosym_cli.check import asyncapi_documents, subscriptions
from qosym_cli.errors import StackError
from qosym_cli.paths import repo_root
from qosym_cli.stack import LocalStack
from qosym_contracts.topics import ALL_TOPICS

PARTITIONS = {topic.name: topic.partitions for topic in ALL_TOPICS}


class BenchError(StackError):
    """A benchmark could not run or found its outcome wrong; the message says which."""


@dataclass
class Figure:
    name: str
    n: int
    seconds: float
    unit: str = "s"  # what baseline and ratio compare: "s" (seconds for the same n) or "p99_ms"
    baseline: float | None = None
    ratio: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    errors: int | None = None
    note: str = ""

    @property
    def rate(self) -> float:
        return self.n / self.seconds if self.seconds > 0 else 0.0

    def compared_to(self, baseline: float | None) -> Figure:
        """Set the baseline (in ``unit``) and the ratio measured / baseline."""
        self.baseline = baseline
        mine = self.p99_ms if self.unit == "p99_ms" else self.seconds
        self.ratio = None if not baseline or mine is None else mine / baseline
        return self

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["rate"] = self.rate
        return {key: (round(value, 4) if isinstance(value, float) else value) for key, value in row.items()}


@dataclass
class Latencies:
    """Per-request wall-clock seconds and failures of an HTTP load."""

    seconds: list[float] = field(default_factory=list)
    sent: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)

    def figure(self, name: str, note: str = "", unit: str = "s") -> Figure:
        p50, p95, p99 = percentiles_ms(self.seconds)
        return Figure(
            name, self.sent, self.elapsed_s, unit, p50_ms=p50, p95_ms=p95, p99_ms=p99, errors=self.errors, note=note
        )


def percentiles_ms(values: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    if len(values) == 1:
        return (values[0] * 1000,) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


def machine() -> dict[str, Any]:
    load1, load5, _ = os.getloadavg()
    return {
        "name": "machine",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cores": len(os.sched_getaffinity(0)),
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "load_average": [round(load1, 2), round(load5, 2)],
    }


def emit(
    title: str,
    figures: Iterable[Figure],
    *,
    as_json: bool,
    notes: Iterable[str] = (),
    facts: Mapping[str, Any] | None = None,
) -> None:
    """A table, or one JSON object per line: a ``machine`` line, one per figure, a ``facts`` line (counts the run
    checked), then ``note`` lines."""
    rows = list(figures)
    if as_json:
        print(json.dumps(machine()), flush=True)
        for row in rows:
            print(json.dumps(row.as_dict()), flush=True)
        print(json.dumps({"name": "facts", **(facts or {})}, default=str), flush=True)
        for note in notes:
            print(json.dumps({"name": "note", "note": note}), flush=True)
        return
    info = machine()
    table = Table(title=f"{title} — {info['date']}, {info['cores']} cores, load {info['load_average']}")
    for column in ("name", "n", "seconds", "rate /s", "p50 ms", "p95 ms", "p99 ms", "errors", "baseline", "ratio"):
        table.add_column(column, justify="left" if column == "name" else "right")
    table.add_column("note")
    for row in rows:
        table.add_row(
            row.name,
            str(row.n),
            f"{row.seconds:.2f}",
            f"{row.rate:.1f}",
            *(_fmt(value) for value in (row.p50_ms, row.p95_ms, row.p99_ms)),
            "" if row.errors is None else str(row.errors),
            "" if row.baseline is None else f"{_fmt(row.baseline)} {row.unit}",
            "" if row.ratio is None else f"{row.ratio:.1f}×",
            row.note,
        )
    output.console.print(table)
    if facts:
        output.plain("facts: " + ", ".join(f"{key} {value}" for key, value in facts.items()))
    for note in notes:
        output.plain(note)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def running_stack(home: Path) -> LocalStack:
    stack = LocalStack(home)
    if not stack.state.database_urls or not stack.all_healthy():
        raise BenchError(f"no healthy stack at {home}: start one with `qosym up --fresh` (qosym status shows why)")
    return stack


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


# --- the pipeline at rest ---------------------------------------------------------------------------------------


def subscribed_topics() -> dict[str, list[str]]:
    """Each consuming service's topics, from its AsyncAPI document (what ``qosym check`` judges delivery by); the
    consumer group of a service is named after it."""
    kinds = subscriptions(asyncapi_documents(repo_root() / "docs" / "asyncapi"))
    return {service: sorted({topic for topic, _ in found}) for service, found in kinds.items() if found}


@dataclass(frozen=True)
class Pipeline:
    lag: dict[str, int]  # per consumer group: records on its topics not committed yet
    backlog: dict[str, int]  # per service: outbox rows not published yet

    @property
    def quiet(self) -> bool:
        return not any(self.lag.values()) and not any(self.backlog.values())


async def connect(url: str, timeout_s: float = 120.0) -> asyncpg.Connection:
    """A connection to a service's database, retried while the server has no slot free (a loaded stack's pools
    can hold every one of them for a while)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await asyncpg.connect(dsn(url))
        except asyncpg.TooManyConnectionsError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


class Watcher:
    """Reads outbox backlogs and consumer lags on connections held open for the whole wait (one per database, one
    Kafka client per consumer group), so watching adds no connection churn to the stack it measures."""

    def __init__(self, stack: LocalStack, topics: Mapping[str, list[str]]) -> None:
        self._stack = stack
        self._topics = topics
        self._conns: dict[str, asyncpg.Connection] = {}
        self._groups: dict[str, tuple[AIOKafkaConsumer, list[TopicPartition]]] = {}

    async def __aenter__(self) -> Watcher:
        for service, url in self._stack.state.database_urls.items():
            self._conns[service] = await connect(url)
        bootstrap = self._stack.state.kafka_bootstrap_servers or ""
        for group, names in self._topics.items():
            consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
            await consumer.start()
            partitions = [TopicPartition(t, p) for t in names for p in range(PARTITIONS.get(t, 1))]
            self._groups[group] = (consumer, partitions)
        return self

    async def __aexit__(self, *_: object) -> None:
        for conn in self._conns.values():
            await conn.close()
        for consumer, _partitions in self._groups.values():
            await consumer.stop()

    async def backlog(self) -> dict[str, int]:
        """Each service's unpublished outbox rows (what the relay reports as ``qosym_outbox_backlog``)."""
        sql = "select count(*) from outbox where published_at is null"
        return {service: int(await conn.fetchval(sql)) for service, conn in self._conns.items()}

    async def lag(self) -> dict[str, int]:
        """Each group's end offsets minus committed offsets over its topics (how a consumers process computes
        ``qosym_consumer_lag``), read now instead of at the process's last refresh."""
        lags: dict[str, int] = {}
        for group, (consumer, partitions) in self._groups.items():
            ends = await consumer.end_offsets(partitions)
            total = 0
            for tp in partitions:
                total += max(0, ends.get(tp, 0) - (await consumer.committed(tp) or 0))
            lags[group] = total
        return lags

    async def pipeline(self) -> Pipeline:
        """Backlog, then lag, then backlog again: a consumer that commits between the reads has written its outbox
        rows before (transactional outbox), so the second backlog read sees them."""
        first = await self.backlog()
        lag = await self.lag()
        second = await self.backlog()
        return Pipeline(lag, {s: max(first[s], second[s]) for s in first})


async def wait_until_quiet(stack: LocalStack, timeout_s: float, interval_s: float = 0.2) -> float:
    """Wait until every consumer group has committed everything and every outbox is published; return the
    monotonic time it was first seen so. Raises BenchError naming what still moves after the deadline."""
    deadline = time.monotonic() + timeout_s
    async with Watcher(stack, subscribed_topics()) as watcher:
        while True:
            state = await watcher.pipeline()
            seen = time.monotonic()
            if state.quiet:
                return seen
            if seen > deadline:
                moving = {**state.lag, **{f"{s} outbox": n for s, n in state.backlog.items()}}
                busy = {k: v for k, v in moving.items() if v}
                raise BenchError(f"the pipeline did not settle within {timeout_s:.0f} s: {busy}")
            await asyncio.sleep(interval_s)


async def outbox_high_water(urls: Mapping[str, str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for service, url in urls.items():
        conn = await connect(url)
        try:
            found[service] = int(await conn.fetchval("select coalesce(max(id), 0) from outbox"))
        finally:
            await conn.close()
    return found


async def outbox_rows_since(urls: Mapping[str, str], marks: Mapping[str, int]) -> dict[str, int]:
    """Outbox rows each service wrote after ``marks`` (its high-water ids): the events a measured step produced."""
    found: dict[str, int] = {}
    for service, url in urls.items():
        conn = await connect(url)
        try:
            found[service] = int(await conn.fetchval("select count(*) from outbox where id > $1", marks[service]))
        finally:
            await conn.close()
    return found


async def troubles(urls: Mapping[str, str]) -> dict[str, tuple[int, int]]:
    """Per service: (unresolved dead letters, parked events) — what a benchmark must not leave behind."""
    found: dict[str, tuple[int, int]] = {}
    for service, url in urls.items():
        conn = await connect(url)
        try:
            dead = await conn.fetchval("select count(*) from dead_letter where resolved_at is null")
            parked = await conn.fetchval("select count(*) from parked_event")
        except asyncpg.UndefinedTableError:
            dead, parked = 0, 0
        finally:
            await conn.close()
        found[service] = (int(dead), int(parked))
    return found


# --- baselines --------------------------------------------------------------------------------------------------


async def kafka_baseline(bootstrap: str, messages: int, size: int = 600, partitions: int = 3) -> Figure:
    """Raw aiokafka: produce ``messages`` records of ``size`` bytes to a scratch topic of the same broker and
    consume them all in one group, committing; seconds from the first send to the last commit."""
    topic = f"bench.baseline.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="qosym-bench")
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()
    payload = b"x" * size
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await producer.start()
    await consumer.start()
    try:
        started = time.perf_counter()
        sends = [await producer.send(topic, payload, key=str(n).encode()) for n in range(messages)]
        await asyncio.gather(*sends)
        seen = 0
        while seen < messages:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            seen += sum(len(records) for records in batch.values())
            if batch:
                await consumer.commit()
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
        await consumer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="qosym-bench")
    await admin.start()
    try:
        await admin.delete_topics([topic])
    except Exception:  # a broker that cannot delete topics keeps a small scratch topic
        pass
    finally:
        await admin.close()
    return Figure("baseline: raw produce+consume (aiokafka)", messages, elapsed, note=f"{size}-byte records, {topic}")


async def copy_baseline(url: str, rows: int) -> Figure:
    """A raw COPY of ``rows`` rows of an application's shape (uuid, text, int, timestamptz) into a scratch
    temporary table of the same database server."""
    conn = await connect(url)
    try:
        await conn.execute(
            "create temp table bench_copy (id uuid, child_id uuid, direction text, score int, at timestamptz)"
        )
        now = time.time()
        from datetime import UTC, datetime

        at = datetime.fromtimestamp(now, UTC)
        records = [(uuid.uuid4(), uuid.uuid4(), "sports", n % 500, at) for n in range(rows)]
        started = time.perf_counter()
        await conn.copy_records_to_table("bench_copy", records=records)
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    return Figure("baseline: raw COPY into a scratch table", rows, elapsed)
