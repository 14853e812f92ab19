"""Consumer wrapper: explicit acks, inbox deduplication, bounded retries, dead letters.

FastStream's Kafka default (ACK_FIRST) is at-most-once, and NACK_ON_ERROR hot-loops on a poison
message (docs/architecture.md, "Delivery"). Every subscriber here is MANUAL and this wrapper always
acks or nacks:

- the event is parsed by this wrapper, so malformed bytes become a dead letter instead of an error
  inside the framework;
- the effect and the inbox row commit in one transaction; a redelivery finds the row and does nothing;
- an error is retried in-process with capped exponential backoff; after ``max_attempts`` the message
  becomes a dead letter and the partition moves on;
- while the database itself is unreachable nothing is dead-lettered: the message is nacked after a
  backoff sleep and read again, so nothing is lost and nothing spins;
- a handler whose prerequisite is missing raises ``parking.Park(key)``: the event is parked (with its inbox
  row, so a redelivery is a duplicate), acknowledged, and applied in the transaction that provides the key
  (``parking.provided``); an event whose partition key already has parked events parks behind them. Parking
  spends no retry and never dead-letters.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from qosym_chassis import dead_letters, inbox, parking
from qosym_chassis.metrics import EVENTS_CONSUMED, EVENTS_PARKED
from qosym_contracts.envelope import IntegrationEvent

Park = parking.Park

log = logging.getLogger("qosym.consumer")

Handler = Callable[[AsyncSession, Any], Awaitable[None]]

D = TypeVar("D")
UseCaseHandler = Callable[[D, AsyncSession, Any], Awaitable[None]]
"""An event handler in a service layer: ``async def on_x(deps, session, event) -> None``."""
Subscriptions = Mapping[type[IntegrationEvent], UseCaseHandler[D]]
"""A service's one table of what it consumes: event type -> the service-layer handler that applies it."""


class Reject(Exception):
    """Raised by a handler for an event that can never be applied (it goes to dead letters at once)."""


class _Behind(Exception):
    """Rolls back an event that must wait behind its aggregate's parked events."""


class Poison(Exception):
    """The bytes are not a valid event."""


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    DEAD_LETTERED = "dead_lettered"
    RETRY_LATER = "retry_later"


@dataclass(frozen=True)
class IncomingMessage:
    topic: str
    body: bytes
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def is_infrastructure_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError | ConnectionError | TimeoutError | OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _bound(handler: UseCaseHandler[D], deps: D) -> Handler:
    async def apply(session: AsyncSession, event: Any) -> None:
        await handler(deps, session, event)

    apply.__name__ = getattr(handler, "__name__", "handler")
    apply.__qualname__ = getattr(handler, "__qualname__", apply.__name__)
    apply.__doc__ = handler.__doc__
    return apply


class EventConsumer:
    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        session_factory: async_sessionmaker[AsyncSession],
        max_attempts: int = 5,
        backoff_base_s: float = 0.2,
        backoff_max_s: float = 10.0,
    ) -> None:
        self.service = service
        self._engine = engine
        self._session_factory = session_factory
        self._max_attempts = max_attempts
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._handlers: dict[str, tuple[type[IntegrationEvent], Handler]] = {}
        self._topics: set[str] = set()
        self.periodic: list[tuple[float, Callable[[], Awaitable[object]]]] = []

    def on(self, event_class: type[IntegrationEvent], handler: Handler) -> None:
        event_type = event_class.model_fields["event_type"].default
        self._handlers[event_type] = (event_class, handler)
        self._topics.add(event_class.topic)

    def route(self, subscriptions: Subscriptions[D], deps: D) -> None:
        """Register a service's subscription table, each handler bound to the service's dependencies."""
        for event_class, handler in subscriptions.items():
            self.on(event_class, _bound(handler, deps))

    def every(self, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        """Run ``job`` in the consumer process every ``seconds`` (deadlines, sweeps); each run is one use case."""
        self.periodic.append((seconds, job))

    @property
    def topics(self) -> list[str]:
        return sorted(self._topics)

    @property
    def event_classes(self) -> list[type[IntegrationEvent]]:
        return [event_class for event_class, _ in self._handlers.values()]

    def subscribe(self, broker: KafkaBroker) -> None:
        """One subscriber over all the service's topics: each consumers process is ONE member of the service's group.

        aiokafka's ``start`` waits for the member's assignment and FastStream starts subscribers one after another,
        so a subscriber per topic made every (re)start N successive rebalances of the whole group (about 8 s each
        on tansu: 45 s before a restarted payments consumed again). One member joins and leaves once.
        """
        if not self._topics:
            return
        broker.subscriber(
            *self.topics,
            group_id=self.service,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            title=f"{self.service}:consumers",
            description=f"{self.service} consumes {', '.join(self.topics)}",
        )(self._on_message)

    async def _on_message(self, msg: KafkaMessage) -> None:
        record = msg.raw_message
        topic = str(getattr(record, "topic", ""))
        key = getattr(record, "key", None)
        incoming = IncomingMessage(
            topic=topic,
            body=msg.body,
            partition=getattr(record, "partition", None),
            offset=getattr(record, "offset", None),
            key=key.decode(errors="replace") if isinstance(key, bytes) else key,
            headers={k: str(v) for k, v in (msg.headers or {}).items()},
        )
        outcome = await self.deliver(incoming)
        try:
            if outcome is Outcome.RETRY_LATER:
                await msg.nack()
            else:
                await msg.ack()
        except KafkaError as exc:  # e.g. a rebalance: the redelivery will be deduplicated
            log.warning("offset commit failed on %s: %s", topic, exc)

    async def deliver(self, message: IncomingMessage) -> Outcome:
        try:
            parsed = self._parse(message.body)
        except Poison as exc:
            outcome = await self._dead_letter(message, None, f"malformed message: {exc}", attempts=1)
            EVENTS_CONSUMED.labels(message.topic, outcome.value).inc()
            return outcome
        if parsed is None:
            EVENTS_CONSUMED.labels(message.topic, Outcome.IGNORED.value).inc()
            return Outcome.IGNORED
        event, handler = parsed
        outcome = await self._apply_with_retries(message, event, handler)
        EVENTS_CONSUMED.labels(message.topic, outcome.value).inc()
        return outcome

    def _parse(self, body: bytes) -> tuple[IntegrationEvent, Handler] | None:
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Poison(str(exc)) from exc
        if not isinstance(document, dict) or not isinstance(document.get("event_type"), str):
            raise Poison("no event_type")
        entry = self._handlers.get(document["event_type"])
        if entry is None:
            return None
        event_class, handler = entry
        try:
            return event_class.model_validate(document), handler
        except ValidationError as exc:
            raise Poison(str(exc)) from exc

    async def _apply_with_retries(self, message: IncomingMessage, event: IntegrationEvent, handler: Handler) -> Outcome:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._apply_once(message, event, handler)
            except Reject as exc:
                return await self._dead_letter(message, event.event_id, f"rejected: {exc}", attempt)
            except Exception as exc:
                log.warning("handling %s failed (attempt %d): %r", event.event_type, attempt, exc)
                await asyncio.sleep(self._backoff(attempt))
                if attempt < self._max_attempts:
                    continue
                if is_infrastructure_error(exc):
                    return Outcome.RETRY_LATER
                return await self._dead_letter(message, event.event_id, repr(exc), attempt)

    async def _apply_once(self, message: IncomingMessage, event: IntegrationEvent, handler: Handler) -> Outcome:
        async with self._session_factory() as session, session.begin():
            if not await inbox.claim(session, consumer=self.service, event_id=event.event_id, topic=message.topic):
                return Outcome.DUPLICATE
            msg_key = message.key if message.key is not None else event.message_key
            behind = await parking.waiting_on_key(session, self.service, msg_key)
            if behind is not None and not await self._provides(session, event, handler, behind):
                await self._park(session, message, event, msg_key, behind)  # never overtake its aggregate's
            elif behind is None:
                awaits = await self._try(session, event, handler)
                if awaits is not None:
                    await self._park(session, message, event, msg_key, awaits)
            await self._release_provided(session)
            _kill_point("before_commit", event)
        _kill_point("after_commit", event)
        return Outcome.APPLIED  # applied, or parked: either way handled once, and the partition moves on

    async def _provides(self, session: AsyncSession, event: IntegrationEvent, handler: Handler, awaited: str) -> bool:
        """Apply an event of an aggregate whose earlier events are parked only if it brings what they await (it is
        their prerequisite: a ChildRegistered after the child's parked guardianships); else roll it back."""
        await parking.lock(session, awaited)
        mark = parking.provided_mark(session)
        try:
            async with session.begin_nested():
                await handler(session, event)
                if awaited not in parking.provided_since(session, mark):
                    raise _Behind
        except (Park, _Behind):
            parking.forget_provided_since(session, mark)
            return False
        return True

    async def _try(self, session: AsyncSession, event: IntegrationEvent, handler: Handler) -> str | None:
        """Apply the event in a savepoint; None when applied, else the key it awaits (its effects rolled back).

        A first ``Park`` is re-checked under the key's lock: the prerequisite may have committed after the handler
        looked for it, and that transaction's release could not see this event yet."""
        awaits: str | None = None
        for _ in range(2):
            mark = parking.provided_mark(session)
            try:
                async with session.begin_nested():
                    await handler(session, event)
            except Park as wait:
                parking.forget_provided_since(session, mark)
                if wait.awaits == awaits:
                    return awaits
                awaits = wait.awaits
                await parking.lock(session, awaits)
                continue
            return None
        return awaits

    async def _park(
        self, session: AsyncSession, message: IncomingMessage, event: IntegrationEvent, msg_key: str, awaits: str
    ) -> None:
        log.info("%s %s parked until %s", event.event_type, event.event_id, awaits)
        EVENTS_PARKED.labels(message.topic).inc()
        await parking.store(
            session,
            parking.Arrival(
                consumer=self.service,
                event_id=event.event_id,
                event_type=event.event_type,
                topic=message.topic,
                awaits=awaits,
                msg_key=msg_key,
                partition=message.partition,
                offset=message.offset,
                headers=message.headers,
                payload=message.body,
            ),
        )

    async def _release_provided(self, session: AsyncSession) -> None:
        """Apply, in this transaction, the events parked on the keys it provided (and on what those provide)."""
        done: set[str] = set()
        while keys := parking.take_provided(session):
            for key in keys:
                if key in done:
                    continue
                done.add(key)
                for row in await parking.parked_on(session, self.service, key):
                    await self._resume(session, row)

    async def _resume(self, session: AsyncSession, row: Any) -> None:
        """Apply one parked event (already in the inbox); it stays parked, in its place, if it still waits."""
        earlier = await parking.waiting_on_key(session, self.service, row.msg_key, before_id=row.id)
        if earlier is not None:  # an earlier event of its aggregate still waits: keep behind it
            await parking.reawait(session, row.id, earlier)
            return
        try:
            parsed = self._parse(row.payload)
        except Poison as exc:  # a handler's event model changed while it was parked
            parsed = None
            log.error("parked event %s no longer parses: %s", row.event_id, exc)
        if parsed is None:
            await self._dead_letter_parked(session, row, "no longer parses or no handler")
            return
        event, handler = parsed
        try:
            awaits = await self._try(session, event, handler)
        except Reject as exc:
            await self._dead_letter_parked(session, row, f"rejected: {exc}")
            return
        if awaits is None:
            await parking.applied(session, row.id)
            log.info("%s %s applied after parking on %s", row.event_type, row.event_id, row.awaits)
        else:
            await parking.reawait(session, row.id, awaits)

    async def _dead_letter_parked(self, session: AsyncSession, row: Any, error: str) -> None:
        """A parked event that can never be applied: a dead letter, and it leaves the parking and the inbox (so an
        operator's retry can apply it), in this transaction."""
        connection = await session.connection()
        failed = dead_letters.FailedMessage(
            consumer=self.service,
            topic=row.topic,
            partition=row.partition,
            offset=row.offset,
            key=row.msg_key,
            headers=dict(row.headers or {}),
            payload=row.payload,
            event_id=row.event_id,
        )
        await dead_letters.record_in(connection, failed, error, attempts=1)
        await parking.forget(session, self.service, row.id, row.event_id)

    async def release_requested_parked(self) -> int:
        """Apply now the parked events an operator released (``qosym parked release``); those still waiting stay."""
        done = 0
        for parked_id in await parking.due_for_release(self._engine):
            async with self._session_factory() as session, session.begin():
                row = await parking.locked(session, parked_id)
                if row is None:
                    continue
                await parking.lock(session, row.awaits)
                try:
                    parsed = self._parse(row.payload)
                except Poison:
                    parsed = None
                if parsed is None:
                    await self._dead_letter_parked(session, row, "no longer parses or no handler")
                    continue
                event, handler = parsed
                try:
                    awaits = await self._try(session, event, handler)
                except Reject as exc:
                    await self._dead_letter_parked(session, row, f"rejected: {exc}")
                    continue
                if awaits is None:
                    await parking.applied(session, row.id)
                    done += 1
                else:
                    await parking.reawait(session, row.id, awaits, error=f"released, still waits for {awaits}")
                await self._release_provided(session)
        return done

    async def _dead_letter(self, message: IncomingMessage, event_id: UUID | None, error: str, attempts: int) -> Outcome:
        failed = dead_letters.FailedMessage(
            consumer=self.service,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key,
            headers=message.headers,
            payload=message.body,
            event_id=event_id,
        )
        try:
            await dead_letters.record(self._engine, failed, error, attempts)
        except Exception as exc:
            log.error("could not record a dead letter, will read the message again: %r", exc)
            await asyncio.sleep(self._backoff_max_s)
            return Outcome.RETRY_LATER
        log.error("dead-lettered a message from %s: %s", message.topic, error[:500])
        return Outcome.DEAD_LETTERED

    def _backoff(self, attempt: int) -> float:
        return float(min(self._backoff_max_s, self._backoff_base_s * 2 ** (attempt - 1)))

    async def retry_requested_dead_letters(self) -> int:
        """Apply again the dead letters an operator asked to retry (``qosym dlq retry``)."""
        done = 0
        for row in await dead_letters.due_for_retry(self._engine):
            message = IncomingMessage(topic=row["topic"], body=row["payload"], key=row["msg_key"])
            try:
                parsed = self._parse(row["payload"])
                if parsed is not None:
                    await self._apply_once(message, *parsed)
            except Exception as exc:
                await dead_letters.mark_retry_failed(self._engine, row["id"], repr(exc))
                continue
            await dead_letters.mark_resolved(self._engine, row["id"])
            done += 1
        return done


def _kill_point(name: str, event: IntegrationEvent) -> None:
    """Fault injection for crash tests: QOSYM_FAULT_KILL_AT=<name> kills this process once; the marker file says
    where and on which event ("<name> <event_type> <event_id>")."""
    if os.environ.get("QOSYM_FAULT_KILL_AT") != name:
        return
    marker = Path(os.environ.get("QOSYM_FAULT_MARKER", "/tmp/qosym-fault-fired"))
    if marker.exists():
        return
    marker.write_text(f"{name} {event.event_type} {event.event_id}")
    os._exit(137)
