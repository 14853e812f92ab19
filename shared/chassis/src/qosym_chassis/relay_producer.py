"""The relay's Kafka producer: outbox rows handed to the broker without waiting for each acknowledgement.

The relay (``qosym_chassis.outbox``) sends a whole batch through ``producer_sender``, then waits for every
acknowledgement, then marks the batch published (docs/architecture.md, "Delivery"); ``is_refused`` tells it
which errors mean the broker will never take a message (an outgoing dead letter).

The record batches are built here, not by ``producer.send``: a relay batch's messages are grouped per topic and
partition (the partition computed as aiokafka's default partitioner computes it, ``murmur2``), appended to
``producer.create_batch()`` builders in id order and handed over with ``producer.send_batch``: one future per
partition batch instead of one per message, the partition of all the batch's keys hashed at once, the metadata
looked up once per topic. ``producer.send``, per message, cost 77 % of the relay's time (docs/performance.md).

Why an aiokafka producer of its own rather than FastStream's ``broker.publish``: FastStream builds a command,
runs its middlewares and opens two spans for every message, which costs about six times what the producer
itself costs per message (docs/performance.md, "Relay"); its ``publish_batch`` sends one set of headers for a
whole batch, while every outbox row has its own (event_id, event_type, traceparent).

Order per key, on retry too: the key picks the partition (murmur2, as aiokafka's default partitioner, FastStream's
producer and the Java client compute it, so a key stays on the partition it always used), and a partition's
messages go into its record batches in id order, its batches handed over in the order they filled. aiokafka keeps
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
import struct
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidMessageError,
    InvalidTimestampError,
    MessageSizeTooLargeError,
    ProducerClosed,
    RecordListTooLargeError,
    RecordTooLargeError,
    UnsupportedForMessageFormatError,
)
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from qosym_chassis.kafka_security import aiokafka_options
from qosym_chassis.outbox import Acknowledgement, OutgoingMessage, Refused
from qosym_chassis.settings import ServiceSettings

# One batch per partition fills while the previous one is in flight: large batches mean few round trips.
MAX_BATCH_BYTES = 512 * 1024
LINGER_MS = 2


def relay_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    """The producer of a service's relay process (not started), with the process's TLS and SASL settings."""
    return make_producer(
        settings.kafka_servers,
        client_id=f"{settings.service_name}-relay",
        idempotence=settings.kafka_idempotence,
        security=aiokafka_options(settings),
    )


def make_producer(
    bootstrap_servers: str | list[str],
    *,
    client_id: str,
    idempotence: bool,
    security: dict[str, Any] | None = None,
) -> AIOKafkaProducer:
    """``security``: the aiokafka keywords of ``qosym_chassis.kafka_security.aiokafka_options`` (none: PLAINTEXT)."""
    return AIOKafkaProducer(
        **(security or {}),
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


def encode_payload(payload: dict[str, Any]) -> bytes:
    """A payload's JSON as the relay sends it (compact), for producers that start from a decoded payload."""
    return json.dumps(payload, separators=(",", ":")).encode()


def producer_sender(producer: AIOKafkaProducer) -> ProducerSender:
    """The relay's sender over an aiokafka producer: whole batches (``batch``), or one message (calling it)."""
    return ProducerSender(producer)


class ProducerSender:
    """Hands outbox messages to the producer without waiting for their acknowledgements.

    ``batch()``: the relay's batches, record batches built here, one per topic and partition (murmur2 of the key,
    as aiokafka's default partitioner and the Java client compute it, so a key stays on the partition it always
    used), each handed over with ``send_batch``: one acknowledgement per partition batch, not one future per
    message. Calling it: one message through ``producer.send`` (the relay's one-at-a-time pass after a refusal).

    Nothing is built here: the relay made the body (the stored JSON) and the headers (the staged traceparent, the
    event's id and type), and traces the batch with one span (qosym_chassis.outbox)."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._max_request_size: int = getattr(producer, "_max_request_size", 1_048_576)  # producer.send's limit

    async def __call__(self, message: OutgoingMessage) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = await self._producer.send(
            message.topic, value=message.body, key=message.key.encode(), headers=message.headers
        )
        return future

    def batch(self) -> PartitionBatches:
        return PartitionBatches(self._producer, self._max_request_size)


class PartitionBatches:
    """One relay batch: its messages in the order added, grouped into record batches per topic and partition when
    handed over (``send``). Within a partition the messages keep their order, so every key does; the producer
    sends a partition's next batch only once the previous one is acknowledged or failed for good, and puts a batch
    it retries back at the head of its partition's queue."""

    def __init__(self, producer: AIOKafkaProducer, max_request_size: int) -> None:
        self._producer = producer
        self._max_request_size = max_request_size
        self._messages: list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]] = []

    def add(self, message: OutgoingMessage) -> None:
        """Take a message; raise MessageSizeTooLargeError (a refusal) at once for one above the producer's
        ``max_request_size``, as ``producer.send`` does, before anything of the batch is handed over. Its size is
        worked out only for a body above half that limit: the headers are a trace context, an id and a type (a
        few hundred bytes; W3C caps baggage at 8 KiB), so below it the message surely fits."""
        key, body = message.key.encode(), message.body
        if len(body) > self._max_request_size // 2:
            size = _estimate_size(key, body, message.headers)
            if size > self._max_request_size:
                raise MessageSizeTooLargeError(
                    f"The message is {size} bytes when serialized which is larger than the maximum request size"
                    f" ({self._max_request_size} bytes)"
                )
        self._messages.append((message.topic, key, body, message.headers))

    async def send(self, handed_over: list[tuple[list[int], Acknowledgement]]) -> None:
        """Hand every message added over to the producer, partition batch by partition batch in the order their
        first message was added; each appended to ``handed_over`` with the indices (in add order) of its messages
        and its acknowledgement as soon as it is handed over (if this raises, those may still be delivered)."""
        producer = self._producer
        # The partitions as the broker lists them now, not as the producer's cached metadata (refreshed every
        # 5 min) remembers them: a broker that came back empty may have had the topic auto-created with fewer
        # partitions, and tansu acknowledges a record sent to a partition it does not list, which no consumer is
        # ever assigned. One metadata request per batch (the batch's topics are known to the producer by then).
        if producer._closed:  # its metadata task has stopped and would never answer; send_batch says so below
            raise ProducerClosed()
        await producer.client.force_metadata_update()
        partitions: dict[str, list[int]] = {}
        for topic in {m[0] for m in self._messages}:
            known = await producer.partitions_for(topic)
            partitions[topic] = sorted(known)
        batches: dict[tuple[str, int], tuple[Any, list[int]]] = {}  # the open batch of each partition
        full: list[tuple[tuple[str, int], Any, list[int]]] = []
        create_batch = producer.create_batch
        hashes = murmur2_many([m[1] for m in self._messages])
        for index, (topic, key, body, headers) in enumerate(self._messages):
            all_partitions = partitions[topic]
            where = (topic, all_partitions[(hashes[index] & 0x7FFFFFFF) % len(all_partitions)])
            current = batches.get(where)
            if current is None:
                current = batches[where] = (create_batch(), [])
            if current[0].append(key=key, value=body, timestamp=None, headers=headers) is None:
                full.append((where, *current))  # at its size limit: the partition's next batch takes the message
                current = batches[where] = (create_batch(), [])
                current[0].append(key=key, value=body, timestamp=None, headers=headers)
            current[1].append(index)
        ready = full + [(where, builder, indices) for where, (builder, indices) in batches.items()]
        ready.sort(key=lambda batch: batch[2][0])  # by their first message: a partition's batches in fill order
        for (topic, partition), builder, indices in ready:
            builder.close()
            handed_over.append((indices, await producer.send_batch(builder, topic, partition=partition)))


def _estimate_size(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> int:
    size: int = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
    return size


_MURMUR_M = 0x5BD1E995
_MASK32 = 0xFFFFFFFF
_WORDS: dict[int, Callable[[bytes], tuple[int, ...]]] = {}


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2, aiokafka.partitioner.murmur2) as an unsigned
    32-bit value; the partition of a key is ``(murmur2(key) & 0x7FFFFFFF) % partitions``. The same result as
    aiokafka's (tests compare them), in half its time: the 4-byte words unpacked at once."""
    length = len(data)
    h = 0x9747B28C ^ length
    words = _WORDS.get(length >> 2)
    if words is None:
        words = _WORDS[length >> 2] = struct.Struct(f"<{length >> 2}I").unpack_from
    m, mask = _MURMUR_M, _MASK32
    for k in words(data):
        k = (k * m) & mask
        k = ((k ^ (k >> 24)) * m) & mask
        h = ((h * m) & mask) ^ k
    tail = length & 3
    if tail:
        base = length & ~3
        if tail == 3:
            h ^= data[base + 2] << 16
        if tail >= 2:
            h ^= data[base + 1] << 8
        h = ((h ^ data[base]) * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    return h ^ (h >> 15)


_LANE = b"\xff\xff\xff\xff\x00\x00\x00\x00"
_ONE = b"\x01\x00\x00\x00\x00\x00\x00\x00"
_MANY = 16  # from this many keys of one length on, they are hashed together


def murmur2_many(keys: list[bytes]) -> list[int]:
    """``murmur2`` of every key, in order. Keys of one length (a batch's keys are mostly UUIDs: 36 bytes) are
    hashed together, each key a 64-bit lane of one Python integer, so that every step of the hash is one
    arithmetic operation on the integer for all the keys at once: about eight times faster than key by key."""
    hashes = [0] * len(keys)
    by_length: dict[int, list[int]] = {}
    for index, key in enumerate(keys):
        by_length.setdefault(len(key), []).append(index)
    for length, indices in by_length.items():
        if len(indices) < _MANY:
            for index in indices:
                hashes[index] = murmur2(keys[index])
            continue
        for index, value in zip(indices, _murmur2_lanes([keys[i] for i in indices], length), strict=True):
            hashes[index] = value
    return hashes


def _murmur2_lanes(keys: list[bytes], length: int) -> list[int]:
    """murmur2 of keys that are all ``length`` bytes long, as ``murmur2`` computes it, lane by lane: a lane holds a
    32-bit value in its lower half, and the mask after each step clears what a product or a right shift carried
    into the upper half (the next lane's bits shifted down land there too, and are cleared)."""
    count = len(keys)
    pad = bytes(-length % 4)  # the tail's bytes, zero-padded, are the little-endian word murmur2 xors in
    joined = pad.join(keys) + pad if pad else b"".join(keys)
    stride = len(joined) // count
    lane = int.from_bytes(_LANE * count, "little")
    m = _MURMUR_M
    h = (0x9747B28C ^ length) * int.from_bytes(_ONE * count, "little")
    full = length >> 2
    for word in range(full):
        k = (_column(joined, stride, 4 * word, count) * m) & lane
        k = (((k ^ (k >> 24)) & lane) * m) & lane
        h = ((h * m) & lane) ^ k
    if length & 3:
        h = ((h ^ _column(joined, stride, 4 * full, count)) * m) & lane
    h = (h ^ (h >> 13)) & lane
    h = (h * m) & lane
    h = (h ^ (h >> 15)) & lane
    return list(struct.unpack(f"<{2 * count}I", h.to_bytes(8 * count, "little"))[::2])


def _column(joined: bytes, stride: int, offset: int, count: int) -> int:
    """The 4-byte word at ``offset`` of every key, each in the lower half of a 64-bit lane."""
    spread = bytearray(8 * count)
    for byte in range(4):
        spread[byte::8] = joined[offset + byte :: stride]
    return int.from_bytes(spread, "little")
