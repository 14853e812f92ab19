"""The relay's batches against the real database and the real Kafka-protocol broker: thousands of rows over a
few keys, a failure in the middle of a batch, and the spans the relay leaves (none while it polls)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaTimeoutError
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from sqlalchemy import func, select

from qosym_chassis import outbox
from qosym_chassis.db import make_session_factory
from qosym_chassis.outbox import OUTBOX, OutboxRelay, OutgoingMessage, Publish
from qosym_chassis.relay_producer import make_producer, producer_sender
from qosym_chassis.telemetry import setup_tracing
from qosym_contracts.envelope import IntegrationEvent

pytestmark = pytest.mark.component

KEYS = ("k1", "k2", "k3", "k4", "k5", "k6", "k7")


class Happened(IntegrationEvent):
    topic: ClassVar[str] = ""
    key_field: ClassVar[str] = "thing_id"
    event_type: Literal["test.Happened"] = "test.Happened"
    event_version: Literal[1] = 1
    thing_id: str
    n: int


def events(topic: str, per_key: int) -> list[Happened]:
    kind = type("Happened", (Happened,), {"topic": topic})
    return [kind(thing_id=key, n=n) for n in range(per_key) for key in KEYS]


class Recorder(SpanProcessor):
    """Keeps the spans ended while it records."""

    def __init__(self) -> None:
        self.recording = False
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        if self.recording:
            self.spans.append(span)


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    processor = Recorder()
    setup_tracing("chassis-test", "test").add_span_processor(processor)
    return processor


@pytest.fixture
async def topic(stack_servers) -> str:
    name = f"test.batches.{uuid.uuid4().hex[:8]}.v1"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack_servers.state.kafka_bootstrap_servers)
    await admin.start()
    await admin.create_topics([NewTopic(name, 3, 1)])
    await admin.close()
    return name


@pytest.fixture
async def producer(stack_servers) -> AsyncIterator[AIOKafkaProducer]:
    made = make_producer(
        stack_servers.state.kafka_bootstrap_servers,
        client_id="chassis-test-relay",
        idempotence=os.environ.get("QOSYM_KAFKA_IDEMPOTENCE") == "true",
    )
    await made.start()
    yield made
    await made.stop()


async def stage(engine, staged: list[Happened]) -> str:
    """Stage the events inside a request's span; the request's trace id."""
    sessions = make_session_factory(engine)
    with trace.get_tracer("test").start_as_current_span("request") as span:
        async with sessions() as session, session.begin():
            for event in staged:
                await outbox.add_event(session, event)
    return format(span.get_span_context().trace_id, "032x")


async def drain(relay: OutboxRelay) -> list[int]:
    """Publish until nothing is pending; the size of each batch."""
    sizes = [await relay.publish_pending()]
    while sizes[-1]:
        sizes.append(await relay.publish_pending())
    return sizes


async def read_topic(bootstrap: str, topic: str, count: int) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """(key, body, headers) of the first ``count`` messages of the topic, per partition in offset order."""
    import json

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    received: list[tuple[str, dict[str, Any], dict[str, str]]] = []
    try:
        async with asyncio.timeout(60):
            while len(received) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    received += [
                        (r.key.decode(), json.loads(r.value), {k: v.decode() for k, v in r.headers}) for r in records
                    ]
    finally:
        await consumer.stop()
    return received


def per_key(received: list[tuple[str, dict[str, Any], dict[str, str]]]) -> dict[str, list[int]]:
    sequences: dict[str, list[int]] = defaultdict(list)
    for key, body, _ in received:
        sequences[key].append(body["n"])
    return sequences


async def outbox_rows(engine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(select(OUTBOX).order_by(OUTBOX.c.id))).mappings()]


async def test_thousands_of_rows_over_several_keys_arrive_complete_in_order_per_key_and_each_is_marked_once(
    engine, topic, producer, stack_servers, recorder
):
    staged = events(topic, per_key=500)  # 3,500 rows, 7 keys interleaved
    trace_id = await stage(engine, staged)

    sizes = await drain(OutboxRelay(engine, producer_sender(producer), batch_size=1_000))

    assert sizes == [1_000, 1_000, 1_000, 500, 0]
    received = await read_topic(stack_servers.state.kafka_bootstrap_servers, topic, len(staged))
    assert len(received) == len(staged)
    assert sorted(h["event_id"] for _, _, h in received) == sorted(str(e.event_id) for e in staged)
    assert per_key(received) == {key: list(range(500)) for key in KEYS}
    for _, _, headers in received:
        assert headers["event_type"] == "test.Happened"
        assert headers["content-type"] == "application/json"
        assert headers["traceparent"].split("-")[1] == trace_id  # the request's trace goes on
    rows = await outbox_rows(engine)
    assert all(r["published_at"] is not None and r["attempts"] == 0 for r in rows)
    # one UPDATE per batch: a statement's now() is one instant, so the rows carry one mark per batch
    async with engine.connect() as conn:
        marks = (await conn.execute(select(func.count(func.distinct(OUTBOX.c.published_at))))).scalar_one()
    assert marks == 4
    assert await outbox.backlog(engine) == 0


def failing_once(send: Publish, fail_n: int) -> Publish:
    """The real sender, except that one message's acknowledgement fails, once (as a broker timeout would)."""
    failed = False

    async def publish(message: OutgoingMessage) -> Any:
        nonlocal failed
        acknowledgement = await send(message)
        if message.payload["n"] == fail_n and not failed:
            failed = True
            await acknowledgement  # the message itself went out; only its acknowledgement is lost
            lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            lost.set_exception(KafkaTimeoutError("acknowledgement timed out"))
            return lost
        return acknowledgement

    return publish


async def test_a_failed_acknowledgement_mid_batch_marks_nothing_and_the_next_pass_sends_the_whole_batch_again(
    engine, topic, producer, stack_servers
):
    staged = events(topic, per_key=100)  # 700 rows: one batch
    await stage(engine, staged)
    relay = OutboxRelay(engine, failing_once(producer_sender(producer), fail_n=50), batch_size=1_000)

    with pytest.raises(KafkaTimeoutError):
        await relay.publish_pending()

    rows = await outbox_rows(engine)
    assert [r["published_at"] for r in rows] == [None] * len(staged)
    [failed] = [r for r in rows if r["attempts"]]
    assert (failed["payload"]["n"], failed["msg_key"]) == (50, KEYS[0])  # the first failed row, in id order
    assert "timed out" in failed["last_error"]

    assert await drain(relay) == [700, 0]
    assert await outbox.backlog(engine) == 0
    # at least once: the first pass's messages went out too, then the whole batch again, in order per key
    received = await read_topic(stack_servers.state.kafka_bootstrap_servers, topic, 2 * len(staged))
    assert len(received) == 2 * len(staged)
    for sequence in per_key(received).values():
        assert sequence == list(range(100)) * 2
    async with engine.connect() as conn:
        marks = (await conn.execute(select(func.count(func.distinct(OUTBOX.c.published_at))))).scalar_one()
    assert marks == 1


async def test_a_send_that_fails_mid_batch_marks_none_of_the_rows_sent_before_it(engine, topic):
    staged = events(topic, per_key=10)
    await stage(engine, staged)
    sent: list[str] = []

    async def broker_rejects_the_fourth(message: OutgoingMessage) -> None:
        if len(sent) == 3:
            raise ConnectionError("broker went away")
        sent.append(message.event_id)

    with pytest.raises(ConnectionError):
        await OutboxRelay(engine, broker_rejects_the_fourth).publish_pending()
    rows = await outbox_rows(engine)
    assert all(r["published_at"] is None for r in rows)
    assert [r["attempts"] for r in rows[:5]] == [0, 0, 0, 1, 0]
    assert sent == [str(r["event_id"]) for r in rows[:3]]


async def test_polling_an_empty_outbox_leaves_no_spans_and_a_batch_one_span_linked_to_each_request(
    engine, topic, producer, recorder, stack_servers
):
    relay = OutboxRelay(engine, producer_sender(producer))
    recorder.recording, recorder.spans = True, []
    try:
        assert await relay.publish_pending() == 0
        assert await outbox.backlog(engine) == 0
        assert await relay.prune() == 0
        assert recorder.spans == []
        recorder.recording = False
        first, second = events(topic, per_key=1)[:2]
        traces = [await stage(engine, [first, first.model_copy(update={"event_id": uuid.uuid4(), "n": 1})])]
        traces.append(await stage(engine, [second]))  # a second request
        recorder.recording = True
        assert await relay.publish_pending() == 3
    finally:
        recorder.recording = False
    [span] = recorder.spans  # no SQL span and no span per message: one for the batch
    assert (span.name, span.kind) == ("outbox relay", trace.SpanKind.PRODUCER)
    assert span.status.status_code is not trace.StatusCode.ERROR
    assert span.attributes is not None and span.attributes["messaging.batch.message_count"] == 3
    assert span.parent is None and format(span.context.trace_id, "032x") not in traces
    staged = {r["headers"]["traceparent"].rsplit("-", 1)[0] for r in await outbox_rows(engine)}
    assert len(staged) == 2  # one context per request
    linked = {f"00-{link.context.trace_id:032x}-{link.context.span_id:016x}" for link in span.links}
    assert linked == staged
    received = await read_topic(stack_servers.state.kafka_bootstrap_servers, topic, 3)
    by_event = {h["event_id"]: h["traceparent"] for _, _, h in received}
    rows = {str(r["event_id"]): r["headers"]["traceparent"] for r in await outbox_rows(engine)}
    assert by_event == rows  # each message continues the trace of the request that staged it


async def test_the_running_relay_woken_by_a_commit_publishes_through_the_producer_and_marks_the_rows(
    engine, topic, producer, stack_servers
):
    relay = OutboxRelay(engine, producer_sender(producer), poll_interval_s=60)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        staged = events(topic, per_key=3)
        await stage(engine, staged)  # the commit's NOTIFY wakes the relay: the poll would take a minute
        received = await read_topic(stack_servers.state.kafka_bootstrap_servers, topic, len(staged))
    finally:
        stop.set()
        await running  # a stop lets the batch in progress finish: sent rows are marked before run returns
    assert await outbox.backlog(engine) == 0
    assert per_key(received) == {key: [0, 1, 2] for key in KEYS}
    assert all(r["published_at"] is not None for r in await outbox_rows(engine))


def test_an_event_staged_outside_any_span_still_carries_a_w3c_traceparent() -> None:
    """A periodic job or a bulk import stages events with no span current: the record still names a trace (its
    own, not sampled), as partners rely on (docs/partners.md); inside a span, that span's context."""
    import re

    from opentelemetry.sdk.trace import TracerProvider

    from qosym_chassis.outbox import trace_headers

    pattern = re.compile(r"^00-([0-9a-f]{32})-[0-9a-f]{16}-00$")
    first, second = trace_headers()["traceparent"], trace_headers()["traceparent"]
    assert pattern.fullmatch(first) and pattern.fullmatch(second) and first != second
    with TracerProvider().get_tracer("test").start_as_current_span("request") as span:
        inside = trace_headers()["traceparent"]
    assert inside.split("-")[1] == format(span.get_span_context().trace_id, "032x")
