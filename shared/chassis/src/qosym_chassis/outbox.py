"""Transactional outbox: write events with the state change, relay them to the broker afterwards.

Rules (docs/architecture.md, "Delivery"):
- ``add_event`` inserts the row in the caller's open transaction; nothing is sent yet.
- one active relay per service (a PostgreSQL advisory lock), publishing pending rows in id order,
  so events with the same key keep their order; a row is marked published only after the
  broker acknowledged it; a failure stops the batch and is retried with capped backoff, forever;
- published rows stay for the replay window; ``request_replay`` marks a window unpublished again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry import propagate, trace
from sqlalchemy import MetaData, RowMapping, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qosym_chassis.tables import define_messaging_tables
from qosym_contracts.envelope import IntegrationEvent

log = logging.getLogger("qosym.outbox")
TABLES = define_messaging_tables(MetaData())
OUTBOX = TABLES.outbox
RELAY_LOCK_ID = 7_357_001
WAKE_CHANNEL = "qosym_outbox"


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


Publish = Callable[[OutgoingMessage], Awaitable[None]]


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        publish: Publish,
        *,
        batch_size: int = 200,
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
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": RELAY_LOCK_ID})).scalar()
            await conn.commit()
            if got:
                return
            await _sleep_or_stop(stop, 1.0)

    async def publish_pending(self) -> int:
        async with self._engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        select(OUTBOX)
                        .where(OUTBOX.c.published_at.is_(None))
                        .order_by(OUTBOX.c.id)
                        .limit(self._batch_size)
                    )
                )
                .mappings()
                .all()
            )
        for row in rows:
            await self._publish_row(row)
        return len(rows)

    async def _publish_row(self, row: RowMapping) -> None:
        parent = propagate.extract(row["headers"] or {})
        with self._tracer.start_as_current_span(
            f"{row['topic']} outbox relay", context=parent, kind=trace.SpanKind.PRODUCER
        ) as span:
            span.set_attribute("messaging.message.id", str(row["event_id"]))
            try:
                await self._publish(
                    OutgoingMessage(
                        event_id=str(row["event_id"]),
                        event_type=row["event_type"],
                        topic=row["topic"],
                        key=row["msg_key"],
                        payload=row["payload"],
                    )
                )
            except Exception as exc:
                await self._record_failure(row["id"], exc)
                raise
        async with self._engine.begin() as conn:
            await conn.execute(update(OUTBOX).where(OUTBOX.c.id == row["id"]).values(published_at=func.now()))

    async def _record_failure(self, row_id: int, exc: Exception) -> None:
        try:
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
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(OUTBOX).where(OUTBOX.c.published_at.is_not(None), OUTBOX.c.published_at < cutoff)
            )
        return int(result.rowcount or 0)


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
