"""Transactional outbox: write events with the state change, relay them to the broker afterwards.

Rules (docs/architecture.md, "Delivery"):
- ``add_event`` inserts the row in the caller's open transaction; nothing is sent yet.
- one active relay per service: the holder of the ``relay_lease`` row, whose epoch (a fencing token, a new
  one at each takeover) is renewed before each batch and checked by the statement that marks a batch
  published; a relay whose epoch is no longer current marks nothing and stops publishing (``LeaseLost``).
  A row, unlike a session advisory lock, survives a PostgreSQL restart; a relay hands messages over
  only while its lease has ``SEND_MARGIN`` left, so everything it sent is settled before a takeover;
- pending rows are published in batches in id order, so events with the same key keep their order: a
  batch is sent without waiting for each acknowledgement (qosym_chassis.relay_producer: the producer
  cannot reorder a key), then marked published in one statement once the broker acknowledged all of it;
  if any row of a batch fails, nothing of it is marked and the whole batch is sent again (at least once:
  consumers dedupe by inbox), with capped backoff, forever; a publisher of whole batches (``BatchPublish``,
  the relay producer's) gets each batch at once and builds one record batch per partition; batch k+1 is
  read while batch k goes out and sent once k is acknowledged (never two batches unacknowledged);
- a row the broker refuses for good (too large, invalid) is an outgoing dead letter: set aside in
  ``outbox_refused`` (its error, a metric, ``refused``), the later rows of its topic and key wait behind
  it (order per key), the other keys go on;
- the relay's bookkeeping SQL (polling, marking, the lease, pruning) leaves no spans and an empty poll
  none at all; each batch gets one producer span "outbox relay" linked to the trace contexts its rows
  were staged in, and each message carries its own row's traceparent (the request that staged it), so
  a consumer's span continues the event's trace;
- published rows stay for the replay window; ``request_replay`` marks a window unpublished again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import MetaData, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qosym_chassis.metrics import EVENTS_REFUSED, EVENTS_RELAYED
from qosym_chassis.tables import define_messaging_tables
from qosym_contracts.envelope import IntegrationEvent

log = logging.getLogger("qosym.outbox")
TABLES = define_messaging_tables(MetaData())
OUTBOX = TABLES.outbox
WAKE_CHANNEL = "qosym_outbox"
DEFAULT_BATCH_SIZE = 1_000


def trace_headers() -> dict[str, str]:
    """The current trace context as message headers. An event staged outside any span (a periodic job, a bulk
    import) gets a trace of its own, not sampled: every record carries a ``traceparent`` (docs/partners.md), and
    the spans its consumers start share one trace id."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    if "traceparent" not in headers:
        headers["traceparent"] = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"
    return headers


async def add_event(session: AsyncSession, event: IntegrationEvent) -> None:
    """Stage an event in the caller's transaction, with the current trace context."""
    headers = trace_headers()
    staged = (
        insert(OUTBOX)
        .values(
            event_id=event.event_id,
            event_type=event.event_type,
            topic=event.topic,
            msg_key=event.message_key,
            payload=event.model_dump(mode="json"),
            headers=headers,
        )
        .returning(OUTBOX.c.id)
        .cte("staged")
    )
    # one round trip: the row, and a notification delivered at commit that wakes the relay at once
    await session.execute(select(func.pg_notify(WAKE_CHANNEL, "")).select_from(staged))


# One statement text whatever the number of events (arrays, not a VALUES row per event): compiled once and prepared
# once per connection. A multi-row VALUES insert is a new statement for every row count, and SQLAlchemy compiling it
# was 45 % of the notifications consumer's time in a round's burst (docs/performance.md, "A round at 10,000").
_ADD_MANY = text(
    """
    WITH staged AS (
        INSERT INTO outbox (event_id, event_type, topic, msg_key, payload, headers)
        SELECT u.event_id, u.event_type, u.topic, u.msg_key, u.payload::jsonb, CAST(:headers AS jsonb)
        FROM unnest(
            CAST(:event_ids AS uuid[]), CAST(:event_types AS text[]), CAST(:topics AS text[]),
            CAST(:keys AS text[]), CAST(:payloads AS text[])
        ) WITH ORDINALITY AS u(event_id, event_type, topic, msg_key, payload, n)
        ORDER BY u.n
        RETURNING id
    )
    SELECT pg_notify(:channel, '') FROM staged LIMIT 1
    """
)


async def add_events(session: AsyncSession, events: Sequence[IntegrationEvent]) -> None:
    """``add_event`` for many events in one statement (one insert and one wake-up), in the given order: the ids
    follow it, so the relay publishes them in that order."""
    if not events:
        return
    headers = trace_headers()
    # a data-modifying CTE runs to completion whatever reads it: one notification is enough
    await session.execute(
        _ADD_MANY,
        {
            "event_ids": [event.event_id for event in events],
            "event_types": [event.event_type for event in events],
            "topics": [event.topic for event in events],
            "keys": [event.message_key for event in events],
            "payloads": [event.model_dump_json() for event in events],
            "headers": json.dumps(headers),
            "channel": WAKE_CHANNEL,
        },
    )


@dataclass(slots=True)  # not frozen: a frozen dataclass takes four times as long to make, per row
class OutgoingMessage:
    event_id: str
    event_type: str
    topic: str
    key: str
    body: bytes  # the payload's JSON as the outbox holds it, never decoded and encoded again by the relay
    headers: list[tuple[str, bytes]]  # the staged trace context (traceparent: the request's), event id and type

    @property
    def payload(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


Acknowledgement = Awaitable[object]
# Hands one message to the broker. Returns None once the broker acknowledged it, or an awaitable of the
# acknowledgement to let the relay send the rest of its batch meanwhile (qosym_chassis.relay_producer).
Publish = Callable[[OutgoingMessage], Awaitable[Acknowledgement | None]]
# Whether an error means the broker refuses this message for good (too large, invalid), not "try again".
IsRefusal = Callable[[BaseException], bool]
# A group of a batch's messages handed over together (their indices in the order added) and its acknowledgement.
HandedOver = tuple[list[int], Acknowledgement]


class MessageBatch(Protocol):
    """The messages of one relay batch, handed over to the broker together (qosym_chassis.relay_producer)."""

    def add(self, message: OutgoingMessage) -> None:
        """Take a message; raise at once (a refusal) for one the broker will never take."""

    async def send(self, handed_over: list[HandedOver]) -> None:
        """Hand every message taken over, without waiting for acknowledgements, keeping the order of each key;
        each group appended to ``handed_over`` as soon as it is handed over (so that, if this raises, the relay
        still settles what went out)."""


@runtime_checkable
class BatchPublish(Protocol):
    """A ``Publish`` that also sends whole batches: the relay's batches go through ``batch()``, its
    one-message-at-a-time pass (after a refusal learnt from an acknowledgement) through the call."""

    def __call__(self, message: OutgoingMessage, /) -> Awaitable[Acknowledgement | None]: ...

    def batch(self) -> MessageBatch: ...


class Refused(Exception):
    """Raised by a publisher for a message the broker will never take (an outgoing dead letter)."""


class LeaseLost(Exception):
    """The relay's lease was taken over (its epoch is no longer current): it must stop publishing."""


def is_refused(error: BaseException) -> bool:
    return isinstance(error, Refused)


LEASE_NAME = "outbox"
LEASE_TTL = timedelta(seconds=30)
# A relay hands messages over only while its lease has at least this long to run, so that every message it handed
# over is acknowledged or has failed (the producer's request timeout, 15 s) before another relay can take over.
SEND_MARGIN = timedelta(seconds=16)

_CONTENT_TYPE = ("content-type", b"application/json")
# The oldest pending rows, in id order, except those of a topic and key with a refused row: they wait behind it.
# asyncpg directly (no SQLAlchemy result processing): the payload and headers as the JSON text PostgreSQL holds.
_PENDING_SQL = """
SELECT o.id, o.event_id::text, o.event_type, o.topic, o.msg_key, o.payload::text, o.headers::text
FROM outbox o
WHERE o.published_at IS NULL AND o.id > $2
  AND (o.topic, o.msg_key) NOT IN (SELECT r.topic, r.msg_key FROM outbox_refused r)
ORDER BY o.id
LIMIT $1
"""
# Read in a transaction where the planner may only walk the pending index in id order (``_ORDERED_SCAN``): right
# after a burst, before autovacuum analysed the table, it estimates a few hundred pending rows and chose a bitmap
# scan of all of them, converting every payload to text, and a sort: 300 ms for a batch with 25,000 pending.
_ORDERED_SCAN = "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)"
# Marks a batch published only while the relay's epoch is current: the lease row is locked FOR SHARE, so a
# takeover waits for this statement's commit, and a mark after a takeover marks nothing (the fencing token).
_MARK_SQL = """
WITH lease AS (SELECT epoch FROM relay_lease WHERE name = $2 AND epoch = $3 FOR SHARE),
marked AS (
    UPDATE outbox SET published_at = now()
    WHERE id = ANY($1::bigint[]) AND published_at IS NULL AND EXISTS (SELECT FROM lease)
    RETURNING 1
)
SELECT EXISTS (SELECT FROM lease), (SELECT count(*) FROM marked)
"""
# Takes the lease if it is free or expired (a new epoch), or renews it for its current holder (the same epoch).
_ACQUIRE_SQL = """
INSERT INTO relay_lease (name, holder, epoch, acquired_at, expires_at)
VALUES ($1, $2, 1, now(), now() + make_interval(secs => $3))
ON CONFLICT (name) DO UPDATE
SET holder = EXCLUDED.holder, epoch = relay_lease.epoch + 1, acquired_at = now(), expires_at = EXCLUDED.expires_at
WHERE relay_lease.expires_at < now()
RETURNING epoch
"""
_RENEW_SQL = """
UPDATE relay_lease SET expires_at = now() + make_interval(secs => $3)
WHERE name = $1 AND epoch = $2
RETURNING epoch
"""
_RELEASE_SQL = "UPDATE relay_lease SET expires_at = now() WHERE name = $1 AND epoch = $2"
_REFUSE_SQL = """
INSERT INTO outbox_refused (outbox_id, event_id, event_type, topic, msg_key, size_bytes, error)
VALUES ($1, $2::uuid, $3, $4, $5, $6, $7)
ON CONFLICT (outbox_id) DO NOTHING
"""


class OutboxRelay:
    """Publishes a service's outbox while it holds the service's relay lease (``relay_lease``, one row): the
    lease's ``epoch`` is a fencing token, incremented by each takeover, renewed before each batch and checked by
    the statement that marks a batch published. A relay whose epoch is no longer current marks nothing and stops
    publishing (``LeaseLost``); the lease is a row, so it survives a PostgreSQL restart, unlike a session lock."""

    def __init__(
        self,
        engine: AsyncEngine,
        publish: Publish,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        poll_interval_s: float = 1.0,
        replay_window: timedelta = timedelta(days=7),
        backoff_max_s: float = 10.0,
        refused: IsRefusal = is_refused,
        lease_ttl: timedelta = LEASE_TTL,
        send_margin: timedelta = SEND_MARGIN,
        holder: str | None = None,
    ) -> None:
        self._engine = engine
        self._publish = publish
        self._batches = publish if isinstance(publish, BatchPublish) else None
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._replay_window = replay_window
        self._backoff_max_s = backoff_max_s
        self._refused = refused
        self._lease_ttl_s = lease_ttl.total_seconds()
        self._send_margin_s = send_margin.total_seconds()
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._tracer = trace.get_tracer("qosym.outbox")
        self._headers: dict[str, list[tuple[str, bytes]]] = {}  # staged headers' JSON → message headers
        self._event_types: dict[str, bytes] = {}
        self._isolate = False  # after the broker refused a message of a batch: one message at a time
        self._refusals = 0  # rows set aside so far
        self.epoch: int | None = None
        self._lease_until = 0.0  # time.monotonic() until which the lease is surely ours
        self.active = False

    async def run(self, stop: asyncio.Event) -> None:
        async with contextlib.AsyncExitStack() as resources:
            with suppress_instrumentation():  # the listening connection (first connect's queries, LISTEN): no trace
                listen_conn = await resources.enter_async_context(self._engine.connect())
                wake = await self._listen(listen_conn)
            while not stop.is_set():
                await self._wait_for_lease(stop)
                if stop.is_set():
                    break
                self.active = True
                try:
                    await self._publish_while_leader(stop, wake)
                except LeaseLost as lost:
                    log.error("outbox relay lost its lease, publishing stopped: %s", lost)
                finally:
                    self.active = False
            await self.release()

    async def _publish_while_leader(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        failures = 0
        last_prune = datetime.min.replace(tzinfo=UTC)
        while not stop.is_set():
            try:
                sent = await self.drain()
                failures = 0
            except LeaseLost:
                raise
            except Exception as exc:  # broker or database unavailable: retry, never drop
                failures += 1
                delay = min(self._backoff_max_s, 0.2 * 2**failures)
                log.warning("outbox relay failed, retrying in %.1fs: %s", delay, exc)
                await _sleep_or_stop(stop, delay)
                continue
            if datetime.now(UTC) - last_prune > timedelta(minutes=10):
                await self.prune()
                last_prune = datetime.now(UTC)
            if sent == 0:  # idle: woken by a commit, or by the poll, which renews the lease in time too
                await _wait_for_wake(wake, stop, min(self._poll_interval_s, self._lease_ttl_s / 3))

    async def _listen(self, conn: Any) -> asyncio.Event:
        """Committed outbox rows NOTIFY the relay; polling remains the safety net."""
        wake = asyncio.Event()
        raw = await conn.get_raw_connection()
        await raw.driver_connection.add_listener(WAKE_CHANNEL, lambda *_: wake.set())
        return wake

    async def _wait_for_lease(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if await self.acquire():
                    return
            except Exception as exc:  # database unavailable: a standby keeps trying
                log.warning("outbox relay could not ask for its lease: %s", exc)
            await _sleep_or_stop(stop, 1.0)

    async def acquire(self) -> bool:
        """Take the lease if it is free or expired (a new epoch). False while another relay holds it."""
        started = time.monotonic()
        with suppress_instrumentation():
            async with self._engine.connect() as conn:
                driver = await _driver(conn)
                epoch = await driver.fetchval(_ACQUIRE_SQL, LEASE_NAME, self.holder, self._lease_ttl_s)
        if epoch is None:
            return False
        self.epoch, self._lease_until = int(epoch), started + self._lease_ttl_s
        log.info("outbox relay %s holds the lease, epoch %s", self.holder, epoch)
        return True

    async def release(self) -> None:
        """Let a standby take over at once (a clean stop: everything handed over was acknowledged and marked)."""
        epoch, self.epoch = self.epoch, None
        if epoch is None:
            return
        try:
            with suppress_instrumentation():
                async with self._engine.connect() as conn:
                    await (await _driver(conn)).execute(_RELEASE_SQL, LEASE_NAME, epoch)
        except Exception as exc:
            log.warning("outbox relay could not release its lease (it expires by itself): %s", exc)

    def _lost(self, why: str) -> LeaseLost:
        epoch, self.epoch = self.epoch, None
        return LeaseLost(f"epoch {epoch} of {self.holder}: {why}")

    async def publish_pending(self) -> int:
        """Publish one batch: the oldest pending rows in id order, all sent before any acknowledgement is
        awaited, then marked published in one statement, fenced by the lease's epoch, once the broker
        acknowledged every one of them. If any row fails, nothing of the batch is marked: the next pass sends
        it all again (at least once; consumers drop what their inbox already holds). A row the broker refuses
        for good is set aside (``outbox_refused``) with the rows of its key behind it; other keys go on.
        Returns the number of rows published. Raises LeaseLost if another relay holds the lease."""
        return await self.drain(1)

    async def drain(self, max_batches: int = 10) -> int:
        """Publish up to ``max_batches`` batches as ``publish_pending`` does, pipelined, with never more than one
        batch unacknowledged: batch k+1 is read while batch k is sent and acknowledged (read after k's last id),
        and sent while batch k's mark-published statement runs. If rows of batch k were refused, batch k+1 is read
        again (it may hold rows of their keys, which wait). Every mark is done when it returns; the next drain reads
        from the oldest pending row again, so a row committed late with a lower id waits at most one drain. One
        connection reads and one marks for the whole drain. Returns the number of rows published."""
        total = 0
        marking: asyncio.Task[None] | None = None
        reading: asyncio.Task[list[Any]] | None = None
        async with contextlib.AsyncExitStack() as connections:
            with suppress_instrumentation():  # polling an empty outbox leaves no trace
                reader = await _driver(await connections.enter_async_context(self._engine.connect()))
            marker: Any = None
            try:
                reading = asyncio.ensure_future(self._read(reader, 0))
                for batch in range(max_batches):
                    task, reading = reading, None
                    rows = await task if task is not None else []
                    if not rows:
                        break
                    if time.monotonic() > self._lease_until - self._send_margin_s:  # paused since the renewal
                        raise self._lost("the lease may have expired while reading")
                    epoch = self.epoch
                    if epoch is None:  # lost while this batch was read (the read raises when it finds out)
                        break
                    if batch + 1 < max_batches:
                        reading = asyncio.ensure_future(self._read(reader, rows[-1][0]))
                    refusals = self._refusals
                    sent = await self._send_traced(rows, epoch)
                    if reading is not None and self._refusals != refusals:
                        await _finish(reading)  # read before the refusal: it may hold rows of the keys that wait
                        reading = asyncio.ensure_future(self._read(reader, rows[-1][0]))
                    if marking is not None:
                        previous, marking = marking, None
                        await previous
                    if marker is None:
                        with suppress_instrumentation():
                            marker = await _driver(await connections.enter_async_context(self._engine.connect()))
                    marking = asyncio.ensure_future(self._mark(sent, epoch, marker))
                    total += len(sent)
            finally:
                if reading is not None:  # a read in progress finishes on its connection; its rows are not sent
                    await _finish(reading)
                if marking is not None:
                    await marking
        return total

    async def _read(self, driver: Any, after: int) -> list[Any]:
        """Take or renew the lease, then read a batch: pending rows with ids above ``after``, in id order."""
        started = time.monotonic()
        with suppress_instrumentation():  # polling an empty outbox leaves no trace
            if self.epoch is None:
                epoch = await driver.fetchval(_ACQUIRE_SQL, LEASE_NAME, self.holder, self._lease_ttl_s)
                if epoch is None:
                    raise LeaseLost(f"{self.holder}: another relay holds the lease")
                self.epoch = int(epoch)
            elif await driver.fetchval(_RENEW_SQL, LEASE_NAME, self.epoch, self._lease_ttl_s) is None:
                raise self._lost("taken over")
            self._lease_until = started + self._lease_ttl_s
            async with driver.transaction():
                await driver.execute(_ORDERED_SCAN)
                rows: list[Any] = await driver.fetch(_PENDING_SQL, self._batch_size, after)
        return rows

    async def _send_traced(self, rows: list[Any], epoch: int) -> list[Any]:
        """Send a batch and await its acknowledgements, in one span: the rows the broker acknowledged."""
        span = self._batch_span(rows)
        try:
            if self._isolate:
                sent = await self._send_one_by_one(rows, epoch)
                self._isolate = False
            else:
                sent = await self._send_batch(rows)
        except BaseException as exc:
            _end_span(span, exc if isinstance(exc, Exception) else None)
            raise
        span.set_attribute("messaging.batch.message_count", len(sent))
        _end_span(span, None)
        return sent

    def _batch_span(self, rows: list[Any]) -> trace.Span:
        """One producer span per batch, linked to the trace context each row was staged in (one link per distinct
        context: a round's rows share their request's). The messages carry their own request's traceparent, so a
        consumer's span continues the event's trace, not the relay's."""
        links: dict[str, trace.Link] = {}
        topics: set[str] = set()
        for row in rows:
            topics.add(row[3])
            staged = row[6]
            if staged not in links and len(links) < _MAX_LINKS:
                context = trace.get_current_span(propagate.extract(json.loads(staged or "{}"))).get_span_context()
                if context.is_valid:
                    links[staged] = trace.Link(context)
        return self._tracer.start_span(
            "outbox relay",
            context=otel_context.Context(),  # a root of its own: never a child of whatever ran before
            kind=trace.SpanKind.PRODUCER,
            links=list(links.values()),
            attributes={
                "messaging.system": "kafka",
                "messaging.operation": "publish",
                "messaging.destination.name": sorted(topics),
                "messaging.batch.message_count": len(rows),
            },
        )

    def _message(self, row: Any) -> OutgoingMessage:
        _, event_id, event_type, topic, key, body, staged = row
        headers = self._headers.get(staged)
        if headers is None:
            if len(self._headers) > 1_000:
                self._headers.clear()
            headers = self._headers[staged] = [
                (name, value.encode()) for name, value in json.loads(staged or "{}").items() if isinstance(value, str)
            ]
            headers.append(_CONTENT_TYPE)
        if not any(name == "traceparent" for name, _ in headers):
            # a row staged by set-based SQL without the stager's context: a trace of its own (trace_headers)
            headers = [*headers, ("traceparent", trace_headers()["traceparent"].encode())]
        type_bytes = self._event_types.get(event_type)
        if type_bytes is None:
            type_bytes = self._event_types[event_type] = event_type.encode()
        id_bytes = event_id.encode()
        return OutgoingMessage(
            event_id,
            event_type,
            topic,
            key,
            body.encode(),
            [*headers, ("correlation_id", id_bytes), ("event_id", id_bytes), ("event_type", type_bytes)],
        )

    async def _send_batch(self, rows: list[Any]) -> list[Any]:
        if self._batches is not None:
            return await self._send_as_batch(rows, self._batches.batch())
        sent: list[Any] = []
        acknowledgements: list[tuple[int, Acknowledgement]] = []
        waiting: set[tuple[str, str]] = set()  # keys of rows refused in this batch: their later rows wait
        publish = self._publish
        for row in rows:
            if waiting and (row[3], row[4]) in waiting:
                continue
            try:
                acknowledgement = await publish(self._message(row))
            except Exception as exc:
                if self._refused(exc):
                    await self._refuse(row, exc)
                    waiting.add((row[3], row[4]))
                    continue
                await _settle(acknowledgements)  # what was handed over may still be delivered: let it finish
                await self._record_failure(row[0], exc)
                raise
            sent.append(row)
            if acknowledgement is not None:
                acknowledgements.append((row[0], acknowledgement))
        failure = await _settle(acknowledgements)
        if failure is not None:
            row_id, error = failure
            if self._refused(error):  # the broker refused one of them, or several: find which, one at a time
                self._isolate = True
            await self._record_failure(row_id, error)
            raise error
        return sent

    async def _send_as_batch(self, rows: list[Any], batch: MessageBatch) -> list[Any]:
        """``_send_batch`` through a publisher of whole batches: every row taken (a refused one set aside, the later
        rows of its key left out), handed over in groups (one per partition), each group's acknowledgement awaited.
        If anything fails, nothing is marked; the failure is recorded on the first row of the first failed group."""
        sent: list[Any] = []
        waiting: set[tuple[str, str]] = set()  # keys of rows refused in this batch: their later rows wait
        for row in rows:
            if waiting and (row[3], row[4]) in waiting:
                continue
            try:
                batch.add(self._message(row))
            except Exception as exc:
                if not self._refused(exc):
                    raise
                await self._refuse(row, exc)
                waiting.add((row[3], row[4]))
                continue
            sent.append(row)
        handed_over: list[HandedOver] = []
        try:
            await batch.send(handed_over)
        except Exception as exc:
            await _settle([(indices[0], ack) for indices, ack in handed_over])  # let what went out finish
            covered = {i for indices, _ in handed_over for i in indices}
            first = next((row for i, row in enumerate(sent) if i not in covered), sent[0] if sent else None)
            if first is not None:
                await self._record_failure(first[0], exc)
            raise
        failure = await _settle([(sent[indices[0]][0], ack) for indices, ack in handed_over])
        if failure is not None:
            row_id, error = failure
            if self._refused(error):  # the broker refused a message of a group, which one its error does not say
                self._isolate = True
            await self._record_failure(row_id, error)
            raise error
        return sent

    async def _send_one_by_one(self, rows: list[Any], epoch: int) -> list[Any]:
        """After the broker refused a message of a batch (which one its error does not say): each row sent and
        acknowledged before the next; a refused one set aside, the rows acknowledged before a failure marked."""
        sent: list[Any] = []
        waiting: set[tuple[str, str]] = set()
        for row in rows:
            if (row[3], row[4]) in waiting:
                continue
            try:
                acknowledgement = await self._publish(self._message(row))
                if acknowledgement is not None:
                    await acknowledgement
            except Exception as exc:
                if self._refused(exc):
                    await self._refuse(row, exc)
                    waiting.add((row[3], row[4]))
                    continue
                await self._mark(sent, epoch)
                await self._record_failure(row[0], exc)
                raise
            sent.append(row)
        return sent

    async def _mark(self, sent: list[Any], epoch: int, driver: Any = None) -> None:
        if not sent:
            return
        with suppress_instrumentation():
            if driver is None:
                async with self._engine.connect() as conn:
                    current, _ = await (await _driver(conn)).fetchrow(
                        _MARK_SQL, [r[0] for r in sent], LEASE_NAME, epoch
                    )
            else:
                current, _ = await driver.fetchrow(_MARK_SQL, [r[0] for r in sent], LEASE_NAME, epoch)
        if not current:
            raise self._lost(f"{len(sent)} rows sent but not marked: another relay took over")
        per_topic: dict[str, int] = {}
        for row in sent:
            per_topic[row[3]] = per_topic.get(row[3], 0) + 1
        for topic, count in per_topic.items():
            EVENTS_RELAYED.labels(topic).inc(count)

    async def _refuse(self, row: Any, error: Exception) -> None:
        """An outgoing dead letter: the row stays unpublished and its key's later rows wait behind it."""
        row_id, event_id, event_type, topic, key, body, _ = row
        log.error("the broker refused outbox row %s (%s, key %s) for good: %s", row_id, event_type, key, error)
        self._refusals += 1
        with suppress_instrumentation():
            async with self._engine.connect() as conn:
                await (await _driver(conn)).execute(
                    _REFUSE_SQL, row_id, event_id, event_type, topic, key, len(body), f"{error!r}"[:2000]
                )
        EVENTS_REFUSED.labels(topic).inc()

    async def _record_failure(self, row_id: int, exc: Exception) -> None:
        try:
            with suppress_instrumentation():
                async with self._engine.begin() as conn:
                    await conn.execute(
                        update(OUTBOX)
                        .where(OUTBOX.c.id == row_id)
                        .values(attempts=OUTBOX.c.attempts + 1, last_error=str(exc)[:2000])
                    )
        except Exception:
            log.exception("could not record outbox failure")

    async def prune(self) -> int:
        cutoff = datetime.now(UTC) - self._replay_window
        with suppress_instrumentation():
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    delete(OUTBOX).where(OUTBOX.c.published_at.is_not(None), OUTBOX.c.published_at < cutoff)
                )
        return int(result.rowcount or 0)


_MAX_LINKS = 128  # the SDK's default span link limit


async def _driver(conn: Any) -> Any:
    """The asyncpg connection under a SQLAlchemy connection (outside any transaction: each statement commits)."""
    raw = await conn.get_raw_connection()
    return raw.driver_connection


async def _settle(acknowledgements: list[tuple[int, Acknowledgement]]) -> tuple[int, Exception] | None:
    """Wait for every acknowledgement, in id order; the first failed row and its error, if any."""
    failure: tuple[int, Exception] | None = None
    for row_id, acknowledgement in acknowledgements:
        try:
            await acknowledgement
        except Exception as exc:
            failure = failure or (row_id, exc)
        except asyncio.CancelledError as exc:
            if not (isinstance(acknowledgement, asyncio.Future) and acknowledgement.cancelled()):
                raise  # the relay itself is cancelled
            failure = failure or (row_id, ConnectionError(f"acknowledgement cancelled (the producer stopped): {exc!r}"))
    return failure


async def _finish(task: asyncio.Task[Any]) -> None:
    """Let a task finish (a read on the drain's connection), whatever it raises: its result is not needed."""
    await asyncio.wait([task])
    if not task.cancelled():
        task.exception()


def _end_span(span: trace.Span, error: Exception | None) -> None:
    if error is not None:
        span.record_exception(error)
        span.set_status(trace.Status(trace.StatusCode.ERROR, str(error)))
    span.end()


async def _wait_for_wake(wake: asyncio.Event, stop: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    wake.clear()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def backlog(engine: AsyncEngine) -> int:
    with suppress_instrumentation():  # the relay process asks every few seconds
        async with engine.connect() as conn:
            count = (
                await conn.execute(select(func.count()).select_from(OUTBOX).where(OUTBOX.c.published_at.is_(None)))
            ).scalar_one()
    return int(count)


async def refused(engine: AsyncEngine) -> list[dict[str, Any]]:
    """The outgoing dead letters (rows the broker refused), oldest first, with how many rows wait behind each."""
    with suppress_instrumentation():
        async with engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT r.outbox_id, r.event_id, r.event_type, r.topic, r.msg_key, r.size_bytes, r.error,"
                    " r.refused_at, (SELECT count(*) FROM outbox o WHERE o.topic = r.topic AND o.msg_key = r.msg_key"
                    " AND o.published_at IS NULL AND o.id > r.outbox_id) AS waiting"
                    " FROM outbox_refused r ORDER BY r.outbox_id"
                )
            )
            return [dict(row) for row in result.mappings()]


async def refused_count(engine: AsyncEngine) -> int:
    with suppress_instrumentation():
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM outbox_refused"))).scalar_one())


async def request_replay(engine: AsyncEngine, since: datetime) -> int:
    """Mark every kept row created since ``since`` for publishing again (after a broker lost its log)."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.created_at >= since, OUTBOX.c.published_at.is_not(None))
            .values(published_at=None)
        )
    return int(result.rowcount or 0)


async def oldest_unpublished_age_s(engine: AsyncEngine) -> float:
    """Seconds the oldest unpublished row has waited (0 when everything is published): the first pending id is the
    oldest (ids follow commit order closely enough for a gauge), read through the pending rows' partial index."""
    with suppress_instrumentation():
        async with engine.connect() as conn:
            age = (
                await conn.execute(
                    select(func.extract("epoch", func.now() - OUTBOX.c.created_at))
                    .where(OUTBOX.c.published_at.is_(None))
                    .order_by(OUTBOX.c.id)
                    .limit(1)
                )
            ).scalar_one_or_none()
    return float(age or 0.0)
