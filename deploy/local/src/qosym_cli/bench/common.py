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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from rich.table import Table

from qosym_cli import output
from qosym_cli.check import asyncapi_documents, subscriptions
from qosym_cli.errors import StackError
from qosym_cli.health import ProcessMetrics, read_metrics
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
    retried: int = 0  # set-up loads only: requests sent again after a 5xx or a failed connection
    elapsed_s: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)

    def figure(self, name: str, note: str = "", unit: str = "s") -> Figure:
        p50, p95, p99 = percentiles_ms(self.seconds)
        failed = {k: v for k, v in sorted(self.statuses.items()) if k not in ("200", "201", "202")}
        if failed:
            note = f"{note}; answers {failed}".lstrip("; ")
        if self.retried:
            note = f"{note}; {self.retried} sent again after a 5xx".lstrip("; ")
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
    backlog: dict[str, int]  # per relay: outbox rows not published yet (its last refresh, every 2 s)

    @property
    def quiet(self) -> bool:
        return not any(self.lag.values()) and not any(self.backlog.values())


async def connect(url: str, timeout_s: float = 120.0) -> asyncpg.Connection:
    """A connection to a database, retried while the server has no slot free."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await asyncpg.connect(dsn(url))
        except asyncpg.TooManyConnectionsError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def server_url(stack: LocalStack, service: str) -> str:
    """The service's database as the server's superuser (the embedded stack's), else as the service's app role:
    the stack's own pools can hold every ordinary connection slot (the superuser has slots reserved)."""
    own = stack.state.database_urls[service]
    if not stack.state.postgres_server_url:
        return own
    return urlsplit(stack.state.postgres_server_url)._replace(path=urlsplit(own).path).geturl()


def relay_metrics(stack: LocalStack) -> dict[str, ProcessMetrics]:
    """Each relay's and consumers process's gauges, read as ``qosym status`` reads them (``/metrics``)."""
    return {
        record.name: read_metrics(int(record.port or 0))
        for record in stack.state.service_processes()
        if record.role in ("relay", "consumers")
    }


def troubles(stack: LocalStack) -> tuple[int, int]:
    """(unresolved dead letters, parked events) over every consumers process (their gauges, refreshed every 5 s)."""
    metrics = [m for name, m in relay_metrics(stack).items() if name.endswith("-consumers")]
    return int(sum(m.dead_letters or 0 for m in metrics)), int(sum(m.parked or 0 for m in metrics))


class EndReader:
    """The end offset of each partition (the offset the next record will get), read so that it holds on tansu too.

    tansu, the local broker, answers ListOffsets(latest) with the base offset of the partition's last record batch
    plus one, not its last record's offset plus one: 100 records produced in one batch show an end offset of 1
    (checked 2026-12-03 with its memory storage engine). Since the relays publish in batches, counting records or
    lag from ``end_offsets`` alone undercounts (a round's 96 awards counted as 7 events) and calls a group caught
    up while the rest of the last batch is still unread. So for each partition whose listed end moved, the last
    batch is fetched from ``listed - 1`` (its base offset on tansu, its last record on Apache Kafka) and the true
    end is the last offset fetched plus one; a partition whose listed end did not move keeps the true end found
    for it before (a record batch never changes)."""

    FETCH_TIMEOUT_S = 10.0

    def __init__(self, bootstrap: str) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._known: dict[TopicPartition, tuple[int, int]] = {}  # listed end -> true end

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def ends(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        listed = await self._consumer.end_offsets(list(partitions))
        stale = [tp for tp in partitions if listed.get(tp, 0) > 0 and self._known.get(tp, (-1, 0))[0] != listed[tp]]
        if stale:
            found = {tp: listed[tp] for tp in stale}
            self._consumer.assign(stale)
            for tp in stale:
                self._consumer.seek(tp, listed[tp] - 1)
            pending = set(stale)
            deadline = time.monotonic() + self.FETCH_TIMEOUT_S
            while pending and time.monotonic() < deadline:
                batch = await self._consumer.getmany(*pending, timeout_ms=500)
                for tp, records in batch.items():
                    if records:
                        found[tp] = max(found[tp], records[-1].offset + 1)
                        pending.discard(tp)
            for tp in stale:
                self._known[tp] = (listed[tp], found[tp])
        return {tp: self._known[tp][1] if listed.get(tp, 0) > 0 else 0 for tp in partitions}


class Watcher:
    """Reads consumer lag from the broker (committed offsets of every group through one admin client, one request
    per group; end offsets through an :class:`EndReader`) and each outbox's backlog from its database (as the
    superuser: the stack's pools can hold every ordinary slot; one connection per database, held open)."""

    def __init__(self, stack: LocalStack, topics: Mapping[str, list[str]]) -> None:
        self._stack = stack
        bootstrap = stack.state.kafka_bootstrap_servers or ""
        self._groups = {
            group: [TopicPartition(t, p) for t in names for p in range(PARTITIONS.get(t, 1))]
            for group, names in topics.items()
        }
        self._ends = EndReader(bootstrap)
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="qosym-bench-watcher")
        self._coordinators: dict[str, int] = {}
        self._databases: dict[str, asyncpg.Connection] = {}

    async def __aenter__(self) -> Watcher:
        await self._ends.start()
        await self._admin.start()
        for group in self._groups:
            self._coordinators[group] = await self._admin.find_coordinator(group)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._admin.close()
        await self._ends.stop()
        for conn in self._databases.values():
            await conn.close()

    async def backlog(self) -> dict[str, int]:
        """Each service's unpublished outbox rows, counted now as the server's superuser (reserved slots), one
        database after the other; the relays' ``qosym_outbox_backlog`` gauges (what ``qosym status`` shows) are
        refreshed only every 2 s, and later still on a loaded machine."""
        found: dict[str, int] = {}
        for service in self._stack.state.database_urls:
            conn = self._databases.get(service)
            if conn is None or conn.is_closed():
                conn = self._databases[service] = await connect(server_url(self._stack, service))
            found[service] = int(await conn.fetchval("select count(*) from outbox where published_at is null"))
        return found

    async def lag(self) -> dict[str, int]:
        """Each group's end offsets (:class:`EndReader`) minus committed offsets over its topics, read now instead
        of at the consumers process's last refresh of ``qosym_consumer_lag``."""
        every = sorted({tp for partitions in self._groups.values() for tp in partitions})
        ends = await self._ends.ends(every)
        lags: dict[str, int] = {}
        for group, partitions in self._groups.items():
            committed = await self._admin.list_consumer_group_offsets(
                group, self._coordinators[group], partitions=partitions
            )
            lags[group] = sum(
                max(0, ends.get(tp, 0) - max(0, committed[tp].offset if tp in committed else 0)) for tp in partitions
            )
        return lags

    async def pipeline(self) -> Pipeline:
        """Backlog, then lag, then backlog again: a consumer that commits between the reads has written its outbox
        rows before (transactional outbox), so the second backlog read sees them."""
        first = await self.backlog()
        lag = await self.lag()
        second = await self.backlog()
        return Pipeline(lag, {s: max(first[s], second[s]) for s in first})


QUIET_FOR_S = 1.0  # the quiet must hold this long (a consumer between poll and commit shows no lag yet)


@dataclass
class Settled:
    """When the pipeline came to rest (monotonic seconds): ``at`` everything at once; ``drained`` per relay (its
    outbox's last unpublished row published) and ``caught_up`` per consumer group (its lag last became 0), each
    the start of the stretch that lasted to the end (what was already at rest when the watch began shows the
    first reading's time); ``began`` and ``answered`` bracket the measured action, if any."""

    at: float
    began: float
    answered: float
    drained: dict[str, float]
    caught_up: dict[str, float]
    result: Any = None

    @property
    def outboxes_drained(self) -> float:
        return max(self.drained.values(), default=self.began)


async def wait_until_quiet(stack: LocalStack, timeout_s: float, interval_s: float = 0.2) -> float:
    """Wait until every consumer group has committed everything and every outbox is published, and it stays so
    for ``QUIET_FOR_S``; return the monotonic time the quiet stretch began. Raises BenchError naming what still
    moves at the deadline."""
    return (await watch_until_quiet(stack, timeout_s, interval_s)).at


async def watch_until_quiet(
    stack: LocalStack, timeout_s: float, interval_s: float = 0.2, action: Callable[[], Any] | None = None
) -> Settled:
    """:func:`wait_until_quiet`, also telling when each outbox drained and each consumer group caught up. With
    ``action`` (a blocking call, run in a thread), the watcher connects first, then ``began`` is taken and the
    action runs, and the watch starts when it returns (its result is ``Settled.result``, its end ``answered``)."""
    since: float | None = None
    drained: dict[str, float] = {}
    caught_up: dict[str, float] = {}
    async with Watcher(stack, subscribed_topics()) as watcher:
        began = time.monotonic()
        result = await asyncio.to_thread(action) if action is not None else None
        answered = time.monotonic()
        deadline = answered + timeout_s
        while True:
            state = await watcher.pipeline()
            seen = time.monotonic()
            for marks_, values in ((drained, state.backlog), (caught_up, state.lag)):
                for key, value in values.items():
                    if value:
                        marks_.pop(key, None)
                    else:
                        marks_.setdefault(key, seen)
            if state.quiet:
                since = seen if since is None else since
                if seen - since >= QUIET_FOR_S:
                    return Settled(since, began, answered, drained, caught_up, result)
            else:
                since = None
            if seen > deadline:
                moving = {**state.lag, **state.backlog}
                busy = {k: v for k, v in moving.items() if v}
                raise BenchError(f"the pipeline did not settle within {timeout_s:.0f} s: {busy}")
            await asyncio.sleep(interval_s)


async def topic_ends(bootstrap: str) -> dict[str, int]:
    """Records on each topic of the platform so far (sum of its partitions' end offsets, read by
    :class:`EndReader`)."""
    reader = EndReader(bootstrap)
    await reader.start()
    try:
        ends = await reader.ends([TopicPartition(t.name, p) for t in ALL_TOPICS for p in range(t.partitions)])
    finally:
        await reader.stop()
    found: dict[str, int] = {}
    for tp, end in ends.items():
        found[tp.topic] = found.get(tp.topic, 0) + end
    return found


def produced_since(stack: LocalStack, marks: Mapping[str, int]) -> dict[str, int]:
    """Events published per producing service since ``marks`` (``topic_ends`` before the measured step)."""
    now = asyncio.run(topic_ends(stack.state.kafka_bootstrap_servers or ""))
    producer = {t.name: t.producer for t in ALL_TOPICS}
    found: dict[str, int] = {}
    for topic, end in now.items():
        if end - marks.get(topic, 0):
            found[producer[topic]] = found.get(producer[topic], 0) + end - marks.get(topic, 0)
    return found


def marks(stack: LocalStack) -> dict[str, int]:
    return asyncio.run(topic_ends(stack.state.kafka_bootstrap_servers or ""))


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
