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

Batches (docs/architecture.md, "Batches"): with ``batch_max`` > 1 (``QOSYM_CONSUMER_BATCH_MAX``, the default) the
subscriber takes what one poll hands it (up to ``batch_max`` records) and applies it in ONE transaction: one inbox
statement claims the whole batch (duplicates filtered by it), one statement reads which partition keys have parked
events, then each event's handler runs in order in its own savepoint (a ``Park`` or a failure rolls back that event
alone), consecutive events of a type registered as ``Many`` go to its set-based handler together, one commit, then
the offsets. An event that fails stops the batch there: what came before it commits, the failing event goes through
the per-event path (retries, dead letter, ``Reject``), then the rest is applied as a batch again; a failure that
names no event (at commit) splits the batch in halves until the event is isolated. An unreachable database retries
the whole batch with backoff and then nacks it (nothing dead-lettered), as the per-event path does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Generic, TypeVar
from uuid import UUID

from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import Link, SpanKind
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from qosym_chassis import dead_letters, inbox, parking
from qosym_chassis.metrics import EVENTS_CONSUMED, EVENTS_PARKED
from qosym_contracts.envelope import IntegrationEvent

TRACER = trace.get_tracer("qosym.consumer")


def _event_span(item: _Item) -> trace.Span:
    """The span of one event applied inside a batch: a child of the context the event was staged in (its message's
    traceparent), so the request's trace runs on into this consumer as with one event per delivery; FastStream's
    own span for the poll only links to the messages."""
    parent = propagate.extract(item.message.headers)
    return TRACER.start_span(f"{item.message.topic} process", context=parent, kind=SpanKind.CONSUMER)


def _batch_links(run: Sequence[_Item]) -> list[Link]:
    links = []
    for item in run:
        context = trace.get_current_span(propagate.extract(item.message.headers)).get_span_context()
        if context.is_valid:
            links.append(Link(context))
    return links


Park = parking.Park

log = logging.getLogger("qosym.consumer")

Handler = Callable[[AsyncSession, Any], Awaitable[None]]

ManyHandler = Callable[[AsyncSession, Sequence[Any]], Awaitable[Mapping[UUID, str]]]
"""A bound set-based handler: applies the events it can, returns ``{event_id: awaited key}`` for those to park."""

DEFAULT_BATCH_MAX = 256

D = TypeVar("D")
UseCaseHandler = Callable[[D, AsyncSession, Any], Awaitable[None]]
"""An event handler in a service layer: ``async def on_x(deps, session, event) -> None``."""
ManyUseCaseHandler = Callable[[D, AsyncSession, Sequence[Any]], Awaitable[Mapping[UUID, str]]]
"""A set-based handler in a service layer: ``async def on_many_x(deps, session, events) -> {event_id: awaits}``."""


@dataclass(frozen=True)
class Many(Generic[D]):
    """Marks a subscription's handler as set-based: ``{X: Many(on_many_x)}``.

    ``async def on_many_x(deps, session, events: Sequence[X]) -> Mapping[UUID, str]`` gets consecutive events of
    type X of one batch together, in order, in one savepoint, and returns the ids of those it did not apply because a
    prerequisite is missing, each with the key it awaits (as ``Park(key)`` would name it; empty when it applied all).
    It must not apply a later event of a partition key after one it parks (the consumer then falls back to one event
    at a time). The same handler gets a single event (``[event]``) when one is applied alone: a parked event's
    release, a retry, an operator's retry, ``QOSYM_CONSUMER_BATCH_MAX=1``.
    """

    handler: ManyUseCaseHandler[D]


Subscriptions = Mapping[type[IntegrationEvent], UseCaseHandler[D] | Many[D]]
"""A service's one table of what it consumes: event type -> the service-layer handler that applies it."""


class Reject(Exception):
    """Raised by a handler for an event that can never be applied (it goes to dead letters at once)."""


class _Behind(Exception):
    """Rolls back an event that must wait behind its aggregate's parked events."""


class Poison(Exception):
    """The bytes are not a valid event."""


class _NeedsCare(Exception):
    """An event applied without a savepoint parked or failed: the whole transaction is rolled back, and the batch
    applied again with a savepoint for that event and every one after it (``failed``: the error, when not a Park)."""

    def __init__(self, at: int, failed: Exception | None) -> None:
        super().__init__(f"event {at} of the batch needs a savepoint")
        self.at = at
        self.failed = failed


class _Split(Exception):
    """A set-based handler applied a later event of a key after parking an earlier one: one at a time instead."""


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


def _bound_many(handler: ManyUseCaseHandler[D], deps: D) -> ManyHandler:
    async def apply(session: AsyncSession, events: Sequence[Any]) -> Mapping[UUID, str]:
        return await handler(deps, session, events)

    apply.__name__ = getattr(handler, "__name__", "handler")
    apply.__qualname__ = getattr(handler, "__qualname__", apply.__name__)
    apply.__doc__ = handler.__doc__
    return apply


def _one_of_many(many: ManyHandler) -> Handler:
    """A set-based handler applied to one event: the per-event path's handler (it parks by raising ``Park``)."""

    async def apply(session: AsyncSession, event: Any) -> None:
        awaits = (await many(session, [event])).get(event.event_id)
        if awaits is not None:
            raise Park(awaits)

    apply.__name__ = getattr(many, "__name__", "handler")
    apply.__qualname__ = getattr(many, "__qualname__", apply.__name__)
    apply.__doc__ = many.__doc__
    return apply


@dataclass(frozen=True)
class _Item:
    """One parsed event of a batch (duplicates within the batch already dropped)."""

    index: int
    message: IncomingMessage
    event: IntegrationEvent
    handler: Handler

    @property
    def key(self) -> str:
        return self.message.key if self.message.key is not None else self.event.message_key


@dataclass
class _Attempt:
    """What one transaction over a batch did: the outcomes of ``items[:stop]`` (committed), and the error that stopped
    it at ``items[stop]`` (``at_event``: raised by that event; otherwise the batch failed as a whole)."""

    outcomes: list[Outcome]
    stop: int
    error: Exception | None = None
    at_event: bool = True


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
        batch_max: int = DEFAULT_BATCH_MAX,
    ) -> None:
        self.service = service
        self.batch_max = max(1, batch_max)
        self._engine = engine
        self._session_factory = session_factory
        self._max_attempts = max_attempts
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._handlers: dict[str, tuple[type[IntegrationEvent], Handler]] = {}
        self._many: dict[str, ManyHandler] = {}
        self._topics: set[str] = set()
        self.periodic: list[tuple[float, Callable[[], Awaitable[object]]]] = []

    def on(self, event_class: type[IntegrationEvent], handler: Handler) -> None:
        event_type = event_class.model_fields["event_type"].default
        self._handlers[event_type] = (event_class, handler)
        self._topics.add(event_class.topic)

    def on_many(self, event_class: type[IntegrationEvent], handler: ManyHandler) -> None:
        """Register a set-based handler (``Many``): a batch's consecutive events of this type go to it together."""
        self.on(event_class, _one_of_many(handler))
        self._many[event_class.model_fields["event_type"].default] = handler

    def route(self, subscriptions: Subscriptions[D], deps: D) -> None:
        """Register a service's subscription table, each handler bound to the service's dependencies."""
        for event_class, handler in subscriptions.items():
            if isinstance(handler, Many):
                self.on_many(event_class, _bound_many(handler.handler, deps))
            else:
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
        if self.batch_max > 1:
            broker.subscriber(
                *self.topics,
                group_id=self.service,
                auto_offset_reset="earliest",
                ack_policy=AckPolicy.MANUAL,
                batch=True,
                max_records=self.batch_max,
                title=f"{self.service}:consumers",
                description=f"{self.service} consumes {', '.join(self.topics)}",
            )(self._on_batch)
            return
        broker.subscriber(
            *self.topics,
            group_id=self.service,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            title=f"{self.service}:consumers",
            description=f"{self.service} consumes {', '.join(self.topics)}",
        )(self._on_message)

    async def _on_batch(self, msg: KafkaMessage) -> None:
        """What one poll handed over: applied as one batch, then acknowledged together (or all read again)."""
        records = msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
        incoming = [_incoming(record) for record in records]
        outcomes = await self.deliver_batch(incoming)
        try:
            if Outcome.RETRY_LATER in outcomes:
                await msg.nack()  # every partition of the batch back to its first record; the inbox skips the rest
            else:
                await msg.ack()
        except KafkaError as exc:  # e.g. a rebalance: the redelivery will be deduplicated
            log.warning("offset commit failed on %s: %s", ",".join(sorted({m.topic for m in incoming})), exc)

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
        """Apply one message: as a batch of one when batches are on (the same path), else the per-event path."""
        if self.batch_max > 1:
            [outcome] = await self.deliver_batch([message])
            return outcome
        return await self.deliver_one(message)

    async def deliver_one(self, message: IncomingMessage) -> Outcome:
        """The per-event path: its own transaction, retries, dead letter."""
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

    async def _apply_with_retries(
        self, message: IncomingMessage, event: IntegrationEvent, handler: Handler, failed: Exception | None = None
    ) -> Outcome:
        """``failed``: the error of a first attempt already made (in a batch); it counts as attempt 1."""
        attempt = 0
        while True:
            attempt += 1
            try:
                if failed is not None:
                    first, failed = failed, None
                    raise first
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

    async def _provides(
        self, session: AsyncSession, event: IntegrationEvent, handler: Handler, awaited: str, release: bool = False
    ) -> bool:
        """Apply an event of an aggregate whose earlier events are parked only if it brings what they await (it is
        their prerequisite: a ChildRegistered after the child's parked guardianships); else roll it back.
        ``release``: apply what it provides inside the same savepoint."""
        await parking.lock(session, awaited)
        mark = parking.provided_mark(session)
        try:
            async with session.begin_nested():
                await handler(session, event)
                if awaited not in parking.provided_since(session, mark):
                    raise _Behind
                if release:
                    await self._release_provided(session)
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

    async def _try_releasing(
        self, session: AsyncSession, event: IntegrationEvent, handler: Handler
    ) -> tuple[str | None, bool]:
        """``_try`` with the release of what the event provides inside its savepoint: (the key it awaits or None,
        whether it provided a key)."""
        awaits: str | None = None
        for _ in range(2):
            mark = parking.provided_mark(session)
            try:
                async with session.begin_nested():
                    await handler(session, event)
                    provided = await self._release_provided(session)
            except Park as wait:
                parking.forget_provided_since(session, mark)
                if wait.awaits == awaits:
                    return awaits, False
                awaits = wait.awaits
                await parking.lock(session, awaits)
                continue
            return None, provided
        return awaits, False

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

    async def _release_provided(self, session: AsyncSession) -> bool:
        """Apply, in this transaction, the events parked on the keys it provided (and on what those provide); True
        when it provided any key (so parked events may have changed)."""
        done: set[str] = set()
        while keys := parking.take_provided(session):
            fresh = [key for key in dict.fromkeys(keys) if key not in done]
            done.update(fresh)
            # one look for the whole batch's keys (a burst provides hundreds, and almost none has a parked event);
            # the keys under the advisory locks taken by ``provided``, so nothing parks on them meanwhile
            waiting = await parking.awaited(session, self.service, fresh)
            for key in fresh:
                if key in waiting:
                    for row in await parking.parked_on(session, self.service, key):
                        await self._resume(session, row)
        return bool(done)

    # --- batches ----------------------------------------------------------------------------------------

    async def deliver_batch(self, messages: Sequence[IncomingMessage]) -> list[Outcome]:
        """Apply what one poll handed over, in order, in as few transactions as it allows; an outcome per message."""
        outcomes: list[Outcome | None] = [None] * len(messages)
        items: list[_Item] = []
        seen: set[UUID] = set()
        for index, message in enumerate(messages):
            try:
                parsed = self._parse(message.body)
            except Poison as exc:
                outcomes[index] = await self._dead_letter(message, None, f"malformed message: {exc}", attempts=1)
                continue
            if parsed is None:
                outcomes[index] = Outcome.IGNORED
            elif parsed[0].event_id in seen:  # the same event twice in one poll: the first one counts
                outcomes[index] = Outcome.DUPLICATE
            else:
                seen.add(parsed[0].event_id)
                items.append(_Item(index, message, *parsed))
        for item, outcome in zip(items, await self._apply_items(items), strict=True):
            outcomes[item.index] = outcome
        done = [o if o is not None else Outcome.IGNORED for o in outcomes]
        for message, outcome in zip(messages, done, strict=True):
            EVENTS_CONSUMED.labels(message.topic, outcome.value).inc()
        return done

    async def _apply_items(self, items: Sequence[_Item]) -> list[Outcome]:
        """Apply the items in order: as one transaction while it works; an event that fails goes through the
        per-event path and the rest continues as a batch; a failure that names no event splits the batch in halves."""
        outcomes: list[Outcome] = []
        rest = list(items)
        while rest:
            attempt = await self._attempt_with_backoff(rest)
            if attempt is None:  # the database stays unreachable: all of it is read again later
                return outcomes + [Outcome.RETRY_LATER] * len(rest)
            outcomes += attempt.outcomes
            if attempt.error is None:
                return outcomes
            if attempt.at_event or len(rest) == 1:
                item = rest[attempt.stop]
                outcome = await self._apply_with_retries(item.message, item.event, item.handler, attempt.error)
                if outcome is Outcome.RETRY_LATER:  # nothing after it may overtake it
                    return outcomes + [Outcome.RETRY_LATER] * (len(rest) - attempt.stop)
                outcomes.append(outcome)
                rest = rest[attempt.stop + 1 :]
                continue
            log.warning("a batch of %d failed as a whole, splitting it: %r", len(rest), attempt.error)
            half = len(rest) // 2
            first = await self._apply_items(rest[:half])
            outcomes += first
            if Outcome.RETRY_LATER in first:
                return outcomes + [Outcome.RETRY_LATER] * (len(rest) - half)
            rest = rest[half:]
        return outcomes

    async def _attempt_with_backoff(self, items: Sequence[_Item]) -> _Attempt | None:
        """One transaction over the items, again with backoff while the database is unreachable (None at the end).

        Events are applied without a savepoint of their own (two round trips, and a subtransaction id each) until
        one parks or fails: then the transaction is rolled back and applied again with a savepoint from that event
        on (a failing event is not run again there: it stops the batch, see ``_apply_items``)."""
        attempt = 0
        careful_from, failed_at = len(items), None
        while True:
            attempt += 1
            try:
                return await self._apply_batch_once(items, careful_from, failed_at)
            except _NeedsCare as care:
                if care.failed is not None and care.at == 0:  # nothing before it to apply again
                    return _Attempt([], 0, care.failed)
                careful_from = care.at
                failed_at = (care.at, care.failed) if care.failed is not None else None
                attempt -= 1
                continue
            except Exception as exc:
                if not is_infrastructure_error(exc):
                    return _Attempt([], 0, exc, at_event=False)
                log.warning("a batch of %d failed (attempt %d): %r", len(items), attempt, exc)
                await asyncio.sleep(self._backoff(attempt))
                if attempt >= self._max_attempts:
                    return None

    async def _apply_batch_once(
        self, items: Sequence[_Item], careful_from: int, failed_at: tuple[int, Exception] | None
    ) -> _Attempt:
        async with self._session_factory() as session, session.begin():
            claimed = await inbox.claim_all(
                session, consumer=self.service, events=[(i.event.event_id, i.message.topic) for i in items]
            )
            keys = {i.key for i in items if i.event.event_id in claimed}
            behind = await parking.waiting_on_keys(session, self.service, keys) if keys else {}
            outcomes: list[Outcome] = []
            first: IntegrationEvent | None = None
            error: Exception | None = None
            at = 0
            while at < len(items):
                item = items[at]
                if item.event.event_id not in claimed:
                    outcomes.append(Outcome.DUPLICATE)
                    at += 1
                    continue
                first = first or item.event
                many = self._many.get(item.event.event_type)
                if many is not None and item.key not in behind:
                    run = self._run(items, at, claimed, behind)
                    fresh = [i for i in run if i.event.event_id in claimed]
                    released = await self._apply_run(session, fresh, many, behind)
                    if released is not None:
                        outcomes += [Outcome.APPLIED if i.event.event_id in claimed else Outcome.DUPLICATE for i in run]
                        at += len(run)
                        if released:
                            behind = await parking.waiting_on_keys(session, self.service, keys)
                        continue
                if failed_at is not None and failed_at[0] == at:  # failed in the previous attempt: stop before it
                    error = failed_at[1]
                    break
                try:
                    if at < careful_from and item.key not in behind:
                        provided = await self._apply_without_savepoint(session, item, at)
                    else:
                        provided = await self._apply_in_batch(session, item, behind)
                except _NeedsCare:
                    raise
                except Exception as exc:
                    if is_infrastructure_error(exc):
                        raise
                    log.warning("handling %s failed in a batch: %r", item.event.event_type, exc)
                    error = exc
                    break
                outcomes.append(Outcome.APPLIED)  # applied, or parked: handled once either way
                at += 1
                if provided:  # parked events were applied or moved: read the batch's parked keys again
                    behind = await parking.waiting_on_keys(session, self.service, keys)
            if error is not None:  # the failing event and what follows it are delivered again, below
                await inbox.unclaim(
                    session,
                    consumer=self.service,
                    event_ids=[i.event.event_id for i in items[at:] if i.event.event_id in claimed],
                )
            if first is not None:
                _kill_point("before_commit", first)
        if first is not None:
            _kill_point("after_commit", first)
        return _Attempt(outcomes, at, error)

    def _run(self, items: Sequence[_Item], start: int, claimed: set[UUID], behind: dict[str, str]) -> list[_Item]:
        """The consecutive events of ``items[start]``'s type from ``start`` whose keys have nothing parked."""
        event_type = items[start].event.event_type
        end = start
        while end < len(items) and items[end].event.event_type == event_type:
            if items[end].event.event_id in claimed and items[end].key in behind:
                break
            end += 1
        return list(items[start:end])

    async def _apply_run(
        self, session: AsyncSession, run: Sequence[_Item], many: ManyHandler, behind: dict[str, str]
    ) -> bool | None:
        """Apply a run of one type (claimed events only) through its set-based handler in one savepoint, parking
        what it did not apply (re-checked once under the awaited keys' locks, as ``_try`` does). True when it
        provided a key; None: rolled back, to be applied one by one instead (the handler failed, or it applied an
        event of a key after parking an earlier one of that key)."""
        mark = parking.provided_mark(session)
        before = dict(behind)
        try:
            async with session.begin_nested():
                parks = await self._many_pass(session, run, many)
                if parks:
                    await parking.lock_all(session, parks.values())
                    waiting = [i for i in run if i.event.event_id in parks]
                    try:
                        async with session.begin_nested():
                            again = await self._many_pass(session, waiting, many)
                    except _Split:
                        again = {i.event.event_id: parks[i.event.event_id] for i in waiting}
                    await parking.lock_all(session, set(again.values()) - set(parks.values()))
                    for item in waiting:
                        if (awaits := again.get(item.event.event_id)) is not None:
                            await self._park(session, item.message, item.event, item.key, awaits)
                            behind[item.key] = awaits
                return await self._release_provided(session)
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise
            parking.forget_provided_since(session, mark)
            behind.clear()
            behind.update(before)
            log.info("%s: %d events one at a time instead: %r", run[0].event.event_type, len(run), exc)
            return None

    @staticmethod
    async def _many_pass(session: AsyncSession, run: Sequence[_Item], many: ManyHandler) -> dict[UUID, str]:
        """The set-based handler over ``run``: what it parks (``_Split`` if it applied an event behind a parked one)."""
        ids = {i.event.event_id for i in run}
        name = f"{run[0].message.topic} process {len(run)}" if run else "process"
        with TRACER.start_as_current_span(name, kind=SpanKind.CONSUMER, links=_batch_links(run)):
            applied = await many(session, [i.event for i in run])
        parks = {event_id: awaits for event_id, awaits in applied.items()}
        unknown = set(parks) - ids
        if unknown:
            raise TypeError(f"{getattr(many, '__name__', many)} parked events it was not given: {sorted(unknown)}")
        parked_keys: set[str] = set()
        for item in run:
            if item.event.event_id in parks:
                parked_keys.add(item.key)
            elif item.key in parked_keys:
                raise _Split
        return parks

    @staticmethod
    async def _handler_without_savepoint(session: AsyncSession, item: _Item, at: int) -> None:
        try:
            with trace.use_span(_event_span(item), end_on_exit=True):
                await item.handler(session, item.event)
        except Park as wait:
            raise _NeedsCare(at, None) from wait
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise
            raise _NeedsCare(at, exc) from exc

    async def _apply_without_savepoint(self, session: AsyncSession, item: _Item, at: int) -> bool:
        """The common case: an event whose key has nothing parked, applied with no savepoint of its own (a Park or a
        failure rolls back the whole transaction: ``_NeedsCare``). True when it provided a key."""
        await self._handler_without_savepoint(session, item, at)
        try:
            return await self._release_provided(session)
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise
            raise _NeedsCare(at, exc) from exc

    async def _apply_in_batch(self, session: AsyncSession, item: _Item, behind: dict[str, str]) -> bool:
        """One event of a batch, in its savepoint: ``_apply_once`` without the claim, with the release of what it
        provides inside the savepoint (a failure rolls back all of it). True when it provided a key."""
        mark = parking.provided_mark(session)
        try:
            with trace.use_span(_event_span(item), end_on_exit=True):
                return await self._apply_in_batch_traced(session, item, behind)
        except BaseException:
            parking.forget_provided_since(session, mark)
            raise

    async def _apply_in_batch_traced(self, session: AsyncSession, item: _Item, behind: dict[str, str]) -> bool:
        """``_apply_in_batch``'s work, inside the event's span."""
        awaited = behind.get(item.key)
        if awaited is not None:
            if await self._provides(session, item.event, item.handler, awaited, release=True):
                return True
            await self._park(session, item.message, item.event, item.key, awaited)  # behind its aggregate's
            return False
        awaits, provided = await self._try_releasing(session, item.event, item.handler)
        if awaits is not None:
            await self._park(session, item.message, item.event, item.key, awaits)
            behind[item.key] = awaits
        return provided

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
        with suppress_instrumentation():  # a poll that mostly finds nothing: no trace of its own
            released = await parking.due_for_release(self._engine)
        for parked_id in released:
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
        with suppress_instrumentation():  # as above
            requested = await dead_letters.due_for_retry(self._engine)
        for row in requested:
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


def _incoming(record: Any) -> IncomingMessage:
    """A consumer record as the wrapper sees it."""
    key = getattr(record, "key", None)
    value = getattr(record, "value", None)
    return IncomingMessage(
        topic=str(getattr(record, "topic", "")),
        body=value if isinstance(value, bytes) else b"",
        partition=getattr(record, "partition", None),
        offset=getattr(record, "offset", None),
        key=key.decode(errors="replace") if isinstance(key, bytes) else key,
        headers={
            str(k): v.decode(errors="replace") if isinstance(v, bytes) else str(v)
            for k, v in (getattr(record, "headers", None) or ())
        },
    )


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
