"""The relay's Kafka producer: outbox rows handed to the broker without waiting for each acknowledgement.

The relay (``qosym_chassis.outbox``) sends a whole batch through ``producer_sender``, then waits for every
acknowledgement, then marks the batch published (docs/architecture.md, "Delivery"); ``is_refused`` tells it
which errors mean the broker will never take a message (an outgoing dead letter).

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
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidMessageError,
    InvalidTimestampError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    UnsupportedForMessageFormatError,
)

from qosym_chassis.outbox import OutgoingMessage, Publish, Refused
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


# The broker refuses such a message for good: sending it again cannot help (an outgoing dead letter). The producer
# raises MessageSizeTooLargeError itself before sending a message above its ``max_request_size`` (1 MiB, Apache
# Kafka's default ``message.max.bytes``); a broker with a lower limit answers it for the partition's batch.
_REFUSALS = (
    Refused,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    InvalidMessageError,
    InvalidTimestampError,
    UnsupportedForMessageFormatError,
)


def is_refused(error: BaseException) -> bool:
    return isinstance(error, _REFUSALS)


def producer_sender(producer: AIOKafkaProducer) -> Publish:
    """Hand one outbox message to the producer; return its acknowledgement (a future) without waiting for it.

    Nothing is built here: the relay made the body (the stored JSON) and the headers (the staged traceparent, the
    event's id and type), and traces the batch with one span (qosym_chassis.outbox)."""
    send = producer.send

    async def publish(message: OutgoingMessage) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = await send(
            message.topic, value=message.body, key=message.key.encode(), headers=message.headers
        )
        return future

    return publish
