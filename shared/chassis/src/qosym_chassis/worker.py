"""Runtime of the non-HTTP processes of a service: the consumers and the outbox relay.

Each serves /health/live, /health/ready and /metrics on QOSYM_PORT so the stack can watch it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta

import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from opentelemetry.instrumentation.utils import suppress_instrumentation
from prometheus_client import make_asgi_app
from starlette.applications import Starlette
from starlette.routing import Mount

from qosym_chassis import dead_letters, health, idempotency, outbox, parking
from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext, build_context
from qosym_chassis.kafka_security import aiokafka_options
from qosym_chassis.metrics import (
    CONSUMER_LAG,
    DEAD_LETTERS,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_REFUSED,
    PARKED_EVENTS,
    PARKED_OVERDUE,
    registry,
)
from qosym_chassis.relay_producer import is_refused, producer_sender, relay_producer
from qosym_chassis.settings import ServiceSettings
from qosym_chassis.telemetry import shutdown_tracing, uvicorn_log_config

log = logging.getLogger("qosym.worker")
Register = Callable[[EventConsumer, ServiceContext], None]


def _health_server(ctx: ServiceContext, started: asyncio.Event) -> uvicorn.Server:
    async def running() -> None:
        if not started.is_set():
            raise ConnectionError("not started yet")

    def checks() -> dict[str, health.Check]:
        return {
            "database": health.database_check(ctx.engine),
            "broker": health.broker_check(ctx.broker),
            "redis": health.redis_check(ctx.redis),
            "process": running,
        }

    app = Starlette(routes=[*health.health_routes(checks), Mount("/metrics", make_asgi_app(registry))])
    config = uvicorn.Config(
        app,
        host=os.environ.get("QOSYM_HOST", "127.0.0.1"),
        port=ctx.settings.port,
        log_config=uvicorn_log_config(),
        access_log=False,
    )
    return _QuietServer(config)


class _QuietServer(uvicorn.Server):
    """Leaves signal handling to the worker, which stops its loops before the health server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _every(stop: asyncio.Event, seconds: float, action: Callable[[], Awaitable[object]]) -> None:
    while not stop.is_set():
        try:
            await action()
        except Exception as exc:
            log.warning("periodic task failed: %r", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)


def _untraced(action: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
    """``action`` without spans: a poll that finds nothing to do most of the time is not worth a trace."""

    async def quietly() -> object:
        with suppress_instrumentation():
            return await action()

    return quietly


Body = Callable[[ServiceContext, asyncio.Event, asyncio.Event], Awaitable[None]]


async def _run(settings: ServiceSettings, process: str, body: Body) -> None:
    ctx = build_context(settings, process)
    stop = asyncio.Event()
    started = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = _health_server(ctx, started)
    serving = asyncio.create_task(server.serve())
    try:
        await body(ctx, stop, started)
    finally:
        server.should_exit = True
        await serving
        await ctx.close()
        shutdown_tracing()


async def _start_broker(ctx: ServiceContext, stop: asyncio.Event) -> None:
    await _start_with_retry(ctx.broker.start, stop)


async def _start_relay_producer(settings: ServiceSettings, stop: asyncio.Event) -> AIOKafkaProducer:
    """The relay's own producer (qosym_chassis.relay_producer), a fresh one per attempt until one starts."""
    producer = relay_producer(settings)

    async def start() -> None:
        nonlocal producer
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            producer = relay_producer(settings)
            raise

    await _start_with_retry(start, stop)
    return producer


async def _start_with_retry(start: Callable[[], Awaitable[None]], stop: asyncio.Event) -> None:
    delay = 0.5
    while not stop.is_set():
        try:
            await start()
            return
        except (KafkaError, OSError) as exc:
            log.warning("broker not reachable yet: %s", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)


def lag_consumer(settings: ServiceSettings) -> AIOKafkaConsumer:
    """The lag probe's consumer (not started): reads offsets only, with the process's TLS and SASL settings."""
    return AIOKafkaConsumer(
        **aiokafka_options(settings),
        bootstrap_servers=settings.kafka_servers,
        group_id=settings.service_name,
        enable_auto_commit=False,
    )


class LagProbe:
    """Consumer lag = end offset minus this group's committed offset, per topic."""

    def __init__(self, settings: ServiceSettings, topics: list[str]) -> None:
        self._settings = settings
        self._topics = topics
        self._consumer: AIOKafkaConsumer | None = None

    async def measure(self) -> dict[str, int]:
        if self._consumer is None:
            self._consumer = lag_consumer(self._settings)
            await self._consumer.start()
        lags: dict[str, int] = {}
        for topic in self._topics:
            partitions = self._consumer.partitions_for_topic(topic) or set()
            if not partitions:
                await self._consumer._client.force_metadata_update()
                partitions = self._consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            ends = await self._consumer.end_offsets(tps) if tps else {}
            total = 0
            for tp in tps:
                committed = await self._consumer.committed(tp)
                total += max(0, ends.get(tp, 0) - (committed or 0))
            lags[topic] = total
            CONSUMER_LAG.labels(topic).set(total)
        return lags

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()


def run_consumers(settings: ServiceSettings, register: Register) -> None:
    """Entry point of a service's consumer process."""

    async def body(ctx: ServiceContext, stop: asyncio.Event, started: asyncio.Event) -> None:
        consumer = EventConsumer(
            service=settings.service_name,
            engine=ctx.engine,
            session_factory=ctx.session_factory,
            max_attempts=settings.consumer_max_attempts,
            backoff_base_s=settings.consumer_backoff_base_s,
            backoff_max_s=settings.consumer_backoff_max_s,
            batch_max=settings.consumer_batch_max,
        )
        register(consumer, ctx)
        consumer.subscribe(ctx.broker)
        await _start_broker(ctx, stop)
        probe = LagProbe(settings, consumer.topics)

        async def refresh_dead_letters() -> None:
            DEAD_LETTERS.set(await dead_letters.unresolved_count(ctx.engine))
            PARKED_EVENTS.set(await parking.count(ctx.engine))
            PARKED_OVERDUE.set(
                await parking.count(ctx.engine, older_than=timedelta(seconds=settings.parking_report_after_s))
            )

        async def prune_idempotency_keys() -> None:
            await idempotency.prune(ctx.engine, timedelta(seconds=settings.idempotency_ttl_s))

        # the process's own bookkeeping polls start no traces (as the relay's); what an operator's retry or release
        # applies, and a service's periodic jobs, do (their polls for work are untraced in EventConsumer)
        tasks = [
            asyncio.create_task(_every(stop, settings.idempotency_prune_interval_s, _untraced(prune_idempotency_keys))),
            asyncio.create_task(_every(stop, 2.0, consumer.retry_requested_dead_letters)),
            asyncio.create_task(_every(stop, 2.0, consumer.release_requested_parked)),
            asyncio.create_task(_every(stop, 5.0, _untraced(refresh_dead_letters))),
            asyncio.create_task(_every(stop, 5.0, _untraced(probe.measure))),
            *(asyncio.create_task(_every(stop, seconds, job)) for seconds, job in consumer.periodic),
        ]
        started.set()
        await stop.wait()
        for task in tasks:
            task.cancel()
        await probe.close()

    asyncio.run(_run(settings, "consumers", body))


def run_relay(settings: ServiceSettings) -> None:
    """Entry point of a service's outbox relay process."""

    async def body(ctx: ServiceContext, stop: asyncio.Event, started: asyncio.Event) -> None:
        await _start_broker(ctx, stop)
        producer = await _start_relay_producer(settings, stop)
        started.set()
        relay = outbox.OutboxRelay(
            ctx.engine,
            producer_sender(producer),
            batch_size=settings.outbox_batch_size,
            poll_interval_s=settings.outbox_poll_interval_s,
            replay_window=timedelta(hours=settings.outbox_replay_window_hours),
            backoff_max_s=settings.consumer_backoff_max_s,
            refused=is_refused,
        )

        async def refresh_backlog() -> None:
            OUTBOX_BACKLOG.set(await outbox.backlog(ctx.engine))
            OUTBOX_OLDEST_AGE.set(await outbox.oldest_unpublished_age_s(ctx.engine))
            OUTBOX_REFUSED.set(await outbox.refused_count(ctx.engine))

        tasks = [asyncio.create_task(_every(stop, 2.0, refresh_backlog))]
        trail = ctx.audit
        if trail is not None:

            async def publish_head() -> None:
                # bookkeeping every few minutes, as the relay's own polling: no trace of its own
                with suppress_instrumentation():
                    async with ctx.session_factory() as session:
                        await trail.publish_head(session)

            tasks.append(asyncio.create_task(_every(stop, settings.audit_head_interval_s, publish_head)))
        try:
            await relay.run(stop)
        finally:
            for task in tasks:
                task.cancel()
            await producer.stop()

    asyncio.run(_run(settings, "relay", body))
