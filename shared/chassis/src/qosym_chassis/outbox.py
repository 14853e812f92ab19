"""Transactional outbox: write events with the state change, relay them to the broker afterwards.

Rules (docs/architecture.md, "Delivery"):
- ``add_event`` inserts the row in the caller's open transaction; nothing is sent yet.
- one active relay per service (a PostgreSQL advisory lock), publishing pending rows in batches in id
  order, so events with the same key keep their order: a batch is sent without waiting for each
  acknowledgement (qosym_chassis.relay_producer: the producer cannot reorder a key), then marked
  published in one statement once the broker acknowledged all of it; if any row of a batch fails,
  nothing of it is marked and the whole batch is sent again (at least once: consumers dedupe by
  inbox), with capped backoff, forever;
- the relay's bookkeeping SQL (polling, marking, the lock, pruning) leaves no spans; each row gets a
  producer span "<topic> outbox relay", child of the request that staged it, and the publisher's
  "<topic> publish" span under it, whose context is the message's traceparent;
- published rows stay for the replay window; ``request_replay`` marks a window unpublished again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import BigInteger, MetaData, Row, any_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qosym_chassis.tables import define_messaging_tables
from qosym_contracts.envelope import IntegrationEvent

log = logging.getLogger("qosym.outbox")
TABLES = define_messaging_tables(MetaData())
OUTBOX = TABLES.outbox
RELAY_LOCK_ID = 7_357_001
WAKE_CHANNEL = "qosym_outbox"
DEFAULT_BATCH_SIZE = 1_000


async def add_event(session: AsyncSession, event: IntegrationEvent) -> None:
    """Stage an event in the caller's transaction, with the current trace context."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
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


@dataclass(frozen=True)
class OutgoingMessage:
    event_id: str
    event_type: str
    topic: str
    key: str
    payload: dict[str, Any]


Acknowledgement = Awaitable[object]
# Hands one message to the broker, inside the row's relay span (the current span: its context goes into the
# message's headers as traceparent). Returns None once the broker acknowledged it, or an awaitable of the
# acknowledgement to let the relay send the rest of its batch meanwhile (qosym_chassis.relay_producer).
Publish = Callable[[OutgoingMessage], Awaitable[Acknowledgement | None]]

_PENDING_COLUMNS = (
    OUTBOX.c.id,
    OUTBOX.c.event_id,
    OUTBOX.c.event_type,
    OUTBOX.c.topic,
    OUTBOX.c.msg_key,
    OUTBOX.c.payload,
    OUTBOX.c.headers,
)
_MARK_PUBLISHED = (
    update(OUTBOX)
    .where(OUTBOX.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))), OUTBOX.c.published_at.is_(None))
    .values(published_at=func.now())
)


_PendingRow = Row[int, uuid.UUID, str, str, str, dict[str, Any], dict[str, str] | None]


@dataclass
class _Sent:
    row_id: int
    span: trace.Span
    acknowledgement: Acknowledgement | None


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        publish: Publish,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        poll_interval_s: float = 1.0,
        replay_window: timedelta = timedelta(days=7),
        backoff_max_s: float = 10.0,
    ) -> None:
        self._engine = engine
        self._publish = publish
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._replay_window = replay_window
        self._backoff_max_s = backoff_max_s
        self._tracer = trace.get_tracer("qosym.outbox")
        self.active = False

    async def run(self, stop: asyncio.Event) -> None:
        async with self._engine.connect() as lock_conn:
            await self._wait_for_lock(lock_conn, stop)
            self.active = True
            wake = await self._listen(lock_conn)
            failures = 0
            last_prune = datetime.min.replace(tzinfo=UTC)
            while not stop.is_set():
                try:
                    sent = await self.publish_pending()
                    failures = 0
                except Exception as exc:  # broker or database unavailable: retry, never drop
                    failures += 1
                    delay = min(self._backoff_max_s, 0.2 * 2**failures)
                    log.warning("outbox relay failed, retrying in %.1fs: %s", delay, exc)
                    await _sleep_or_stop(stop, delay)
                    continue
                if datetime.now(UTC) - last_prune > timedelta(minutes=10):
                    await self.prune()
                    last_prune = datetime.now(UTC)
                if sent == 0:
                    await _wait_for_wake(wake, stop, self._poll_interval_s)

    async def _listen(self, conn: Any) -> asyncio.Event:
        """Committed outbox rows NOTIFY the relay; polling remains the safety net."""
        wake = asyncio.Event()
        raw = await conn.get_raw_connection()
        await raw.driver_connection.add_listener(WAKE_CHANNEL, lambda *_: wake.set())
        return wake

    async def _wait_for_lock(self, conn: Any, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with suppress_instrumentation():
                got = (await conn.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": RELAY_LOCK_ID})).scalar()
                await conn.commit()
            if got:
                return
            await _sleep_or_stop(stop, 1.0)

    async def publish_pending(self) -> int:
        """Publish one batch: the oldest pending rows in id order, all sent before any acknowledgement is
        awaited, then marked published in one statement once the broker acknowledged every one of them.
        If any row fails, nothing of the batch is marked: the next pass sends it all again (at least once;
        consumers drop what their inbox already holds). Returns the number of rows published."""
        with suppress_instrumentation():  # polling an empty outbox leaves no trace
            async with self._engine.connect() as conn:
                rows = (
                    await conn.execute(
                        select(*_PENDING_COLUMNS)
                        .where(OUTBOX.c.published_at.is_(None))
                        .order_by(OUTBOX.c.id)
                        .limit(self._batch_size)
                    )
                ).all()
        if not rows:
            return 0
        sent: list[_Sent] = []
        try:
            for row in rows:
                sent.append(await self._send(row))
        except _SendFailed as failed:
            await self._settle(sent)  # what was handed over may still be delivered: let it finish
            self._end_spans(sent, failed.error)
            await self._record_failure(failed.row_id, failed.error)
            raise failed.error from None
        failure = await self._settle(sent)
        if failure is not None:
            row_id, error = failure
            self._end_spans(sent, error)
            await self._record_failure(row_id, error)
            raise error
        with suppress_instrumentation():
            async with self._engine.begin() as conn:
                await conn.execute(_MARK_PUBLISHED, {"ids": [s.row_id for s in sent]})
        self._end_spans(sent, None)
        return len(rows)

    async def _send(self, row: _PendingRow) -> _Sent:
        """Hand one row to the broker inside the row's producer span (a child of the request that staged it)."""
        row_id, event_id, event_type, topic, key, payload, headers = row
        parent = propagate.extract(headers or {})
        span = self._tracer.start_span(
            f"{topic} outbox relay",
            context=parent,
            kind=trace.SpanKind.PRODUCER,
            attributes={"messaging.message.id": str(event_id)},
        )
        message = OutgoingMessage(event_id=str(event_id), event_type=event_type, topic=topic, key=key, payload=payload)
        token = otel_context.attach(trace.set_span_in_context(span, parent))  # with the request's baggage
        try:
            acknowledgement = await self._publish(message)
        except Exception as exc:
            _end_span(span, exc)
            raise _SendFailed(row_id, exc) from exc
        finally:
            otel_context.detach(token)
        return _Sent(row_id, span, acknowledgement)

    @staticmethod
    async def _settle(sent: list[_Sent]) -> tuple[int, Exception] | None:
        """Wait for every acknowledgement; the first failed row (in id order) and its error, if any."""
        pending = [(s.row_id, s.acknowledgement) for s in sent if s.acknowledgement is not None]
        results = await asyncio.gather(*(ack for _, ack in pending), return_exceptions=True)
        for (row_id, _), result in zip(pending, results, strict=True):
            if isinstance(result, Exception):
                return row_id, result
            if isinstance(result, BaseException):  # a cancelled acknowledgement (the producer stopped)
                return row_id, ConnectionError(f"acknowledgement cancelled: {result!r}")
        return None

    @staticmethod
    def _end_spans(sent: list[_Sent], error: Exception | None) -> None:
        for s in sent:
            _end_span(s.span, error)

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


class _SendFailed(Exception):
    def __init__(self, row_id: int, error: Exception) -> None:
        super().__init__(str(error))
        self.row_id = row_id
        self.error = error


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


async def request_replay(engine: AsyncEngine, since: datetime) -> int:
    """Mark every kept row created since ``since`` for publishing again (after a broker lost its log)."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.created_at >= since, OUTBOX.c.published_at.is_not(None))
            .values(published_at=None)
        )
    return int(result.rowcount or 0)
