"""The relay's Kafka producer: outbox rows handed to the broker without waiting for each acknowledgement.

The relay (``qosym_chassis.outbox``) sends a whole batch through ``producer_sender``, then waits for every
acknowledgement, then marks the batch published (docs/architecture.md, "Delivery").

Why an aiokafka producer of its own rather than FastStream's ``broker.publish``: FastStream builds a command,
runs its middlewares and opens two spans for every message, which costs about six times what the producer
itself costs per message (docs/performance.md, "Relay"); its ``publish_batch`` sends one set of headers for a
whole batch, while every outbox row has its own (event_id, event_type, traceparent).

Order per key, on retry too: the key picks the partition (aiokafka's default partitioner, murmur2, the same
as FastStream's producer and the Java client, so a key stays on the partition it always used). aiokafka keeps
at most one produce request in flight per broker and does not drain a partition while its previous batch is in
flight; a batch that failed and is retried goes back to the head of its partition's queue. That is
``max.in.flight.requests.per.connection=1`` by construction (aiokafka has no such setting), so a retry never
reorders a key. The idempotent producer (``QOSYM_KAFKA_IDEMPOTENCE=true``, Apache Kafka) additionally
removes the duplicates a retry could write; tansu, the local broker, has no idempotent producer, so it is off
by default. ``acks="all"`` either way.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiokafka import AIOKafkaProducer
from opentelemetry import propagate, trace

from qosym_chassis.metrics import EVENTS_RELAYED
from qosym_chassis.outbox import OutgoingMessage, Publish
from qosym_chassis.settings import ServiceSettings

# One batch per partition fills while the previous one is in flight: large batches mean few round trips.
MAX_BATCH_BYTES = 512 * 1024
LINGER_MS = 2


def relay_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    """The producer of a service's relay process (not started)."""
    return make_producer(
        settings.kafka_servers,
        client_id=f"{settings.service_name}-relay",
        idempotence=settings.kafka_idempotence,
    )


def make_producer(bootstrap_servers: str | list[str], *, client_id: str, idempotence: bool) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=idempotence,
        request_timeout_ms=15_000,
        max_batch_size=MAX_BATCH_BYTES,
        linger_ms=LINGER_MS,
    )


def message_headers(message: OutgoingMessage, trace_context: dict[str, str]) -> list[tuple[str, bytes]]:
    """The headers every relayed message carries, as FastStream's publish wrote them: the trace context
    (traceparent), the event's id and type, the content type and a correlation id (the event id)."""
    return [
        *((name, value.encode()) for name, value in trace_context.items()),
        ("content-type", b"application/json"),
        ("correlation_id", message.event_id.encode()),
        ("event_id", message.event_id.encode()),
        ("event_type", message.event_type.encode()),
    ]


def encode_payload(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def producer_sender(producer: AIOKafkaProducer) -> Publish:
    """Hand one outbox row to the producer; return its acknowledgement (a future) without waiting for it.

    Inside the relay's span for the row, a "<topic> publish" span (as FastStream's middleware names it) covers
    the hand-over; its context is the message's traceparent, so the consumer's span continues the trace."""
    tracer = trace.get_tracer("qosym.relay_producer")

    async def send(message: OutgoingMessage) -> asyncio.Future[Any]:
        with tracer.start_as_current_span(
            f"{message.topic} publish",
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation": "publish",
                "messaging.destination.name": message.topic,
                "messaging.message.id": message.event_id,
            },
        ):
            trace_context: dict[str, str] = {}
            propagate.inject(trace_context)
            future: asyncio.Future[Any] = await producer.send(
                message.topic,
                value=encode_payload(message.payload),
                key=message.key.encode(),
                headers=message_headers(message, trace_context),
            )
        future.add_done_callback(_count(message.topic))
        return future

    return send


def _count(topic: str) -> Any:
    def acknowledged(future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is None:
            EVENTS_RELAYED.labels(topic).inc()

    return acknowledged
