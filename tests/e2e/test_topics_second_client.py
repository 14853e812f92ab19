"""Every topic read by a second, independent Kafka client: confluent-kafka (librdkafka), not the services' aiokafka.

What a partner's consumer sees (docs/partners.md): each record of every topic of the AsyncAPI documents has a key
(the event's aggregate id), the headers ``event_id``, ``event_type`` and ``traceparent``, and a payload that is a
valid contract event (``shared/contracts``) of that topic, whose id and type are the headers'.

The records expected are what the services' outboxes say was published since the broker now running started (the
demo seeding's regions, providers, programmes, rounds, children, guardianships and applications, and whatever the
suite's earlier tests published; an earlier test restarts the local broker empty and replays: a row published
before that is on the broker only if it was replayed). The consumer reads every partition from offset 0, assigned
(no group, no ListOffsets, which the local broker answers oddly), polling with a timeout until each expected event
was seen. Records that name no outbox row are not a service's: the fault tests produce malformed and forged records
straight to the broker (docs/reliability.md); they are counted, not judged.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import psutil
import pytest
from confluent_kafka import Consumer, KafkaError, TopicPartition

from qosym_cli.stack import LocalStack
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.event_index import ALL_EVENTS
from qosym_contracts.topics import ALL_TOPICS
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

ASYNCAPI = Path(__file__).resolve().parents[2] / "docs" / "asyncapi"
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
MODELS: dict[str, type[IntegrationEvent]] = {model.model_fields["event_type"].default: model for model in ALL_EVENTS}
# what the demo seeding publishes on every `up`: these topics must have records
SEEDED = {
    "allocation.region.v1",
    "allocation.round.v1",
    "allocation.application.v1",
    "catalog.provider.v1",
    "catalog.programme.v1",
    "registry.child.v1",
    "registry.guardianship.v1",
}


def asyncapi_topics() -> set[str]:
    topics: set[str] = set()
    for document in ASYNCAPI.glob("*.json"):
        topics |= {channel["address"] for channel in json.loads(document.read_text())["channels"].values()}
    return topics


async def _outboxes(stack: LocalStack, since: datetime | None) -> tuple[dict[str, str], set[str], int]:
    """Every outbox row of every service published since ``since`` (event id -> topic), every row's event id, and
    how many rows are still pending."""
    published: dict[str, str] = {}
    every: set[str] = set()
    pending = 0
    for url in stack.state.database_urls.values():
        conn = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            if not await conn.fetchval("select to_regclass('outbox') is not null"):
                continue
            rows = await conn.fetch("select event_id, topic, published_at from outbox")
        finally:
            await conn.close()
        for row in rows:
            every.add(str(row["event_id"]))
            if row["published_at"] is None:
                pending += 1
            elif since is None or row["published_at"] >= since:
                published[str(row["event_id"])] = row["topic"]
    return published, every, pending


def broker_started(stack: LocalStack) -> datetime | None:
    """When the local broker now running started (its storage is in memory: what it holds was sent since)."""
    record = stack.state.processes.get("kafka")
    if record is None or record.pid is None or not psutil.pid_exists(record.pid):
        return None  # an external broker keeps what it was sent
    return datetime.fromtimestamp(psutil.Process(record.pid).create_time(), UTC)


def published_events(stack: LocalStack) -> tuple[dict[str, str], set[str]]:
    """Once the relays have published everything staged: what the running broker was sent, and every event id."""
    since = broker_started(stack)

    def settled() -> tuple[dict[str, str], set[str]] | None:
        published, every, pending = asyncio.run(_outboxes(stack, since))
        return (published, every) if not pending and set(published.values()) >= SEEDED else None

    return eventually(settled, timeout_s=120)


def check_record(record: Any, problems: list[str]) -> str | None:
    """The record's event id when it is a valid event of its topic; otherwise a line in ``problems``."""
    where = f"{record.topic()}[{record.partition()}]@{record.offset()}"
    headers = {name: (value or b"").decode() for name, value in (record.headers() or [])}
    missing = [name for name in ("event_id", "event_type", "traceparent") if not headers.get(name)]
    if missing:
        problems.append(f"{where}: no header {', '.join(missing)}")
        return None
    if not TRACEPARENT.fullmatch(headers["traceparent"]):
        problems.append(f"{where}: traceparent {headers['traceparent']!r} is not W3C trace context")
    if not record.key():
        problems.append(f"{where}: no key")
        return None
    model = MODELS.get(headers["event_type"])
    if model is None:
        problems.append(f"{where}: event_type {headers['event_type']!r} is no contract event")
        return None
    try:
        event = model.model_validate_json(record.value())
    except ValueError as error:
        problems.append(f"{where}: the payload is not a valid {model.__name__}: {error}")
        return None
    if model.topic != record.topic():
        problems.append(f"{where}: {model.__name__} belongs on {model.topic}")
    if str(event.event_id) != headers["event_id"] or event.event_type != headers["event_type"]:
        problems.append(f"{where}: the headers name another event than the payload")
    if event.message_key != record.key().decode():
        problems.append(f"{where}: key {record.key()!r} is not the event's {model.key_field} {event.message_key}")
    return headers["event_id"]


def test_a_confluent_kafka_client_reads_every_topic_and_every_record_is_a_valid_event(running_stack):
    topics = asyncapi_topics()
    declared = {topic.name: topic.partitions for topic in ALL_TOPICS}
    assert topics <= set(declared), topics - set(declared)
    topics |= set(declared)
    expected, from_outboxes = published_events(running_stack)
    assert set(expected.values()) <= topics

    consumer = Consumer(
        {
            "bootstrap.servers": running_stack.state.kafka_bootstrap_servers,
            "group.id": f"second-client-{uuid4().hex[:8]}",  # never joined: the partitions are assigned
            "enable.auto.commit": False,
            "allow.auto.create.topics": False,
            "client.id": "qosym-e2e-confluent",
        }
    )
    try:
        metadata = consumer.list_topics(timeout=30)  # every topic: names none, so creates none
        listed = {name: len(topic.partitions) for name, topic in metadata.topics.items()}
        assert {name: listed.get(name) for name in topics} == {name: declared[name] for name in topics}
        consumer.assign([TopicPartition(name, p, 0) for name in sorted(topics) for p in range(declared[name])])

        seen: dict[str, set[str]] = {name: set() for name in topics}
        problems: list[str] = []
        foreign = 0
        waiting = set(expected)
        deadline = time.monotonic() + 120
        while waiting and time.monotonic() < deadline:
            for record in consumer.consume(num_messages=500, timeout=1.0):
                if record.error() is not None:
                    if record.error().code() != KafkaError._PARTITION_EOF:
                        problems.append(f"{record.topic()}: {record.error()}")
                    continue
                named = dict(record.headers() or []).get("event_id")
                if named is None or named.decode(errors="replace") not in from_outboxes:
                    foreign += 1  # produced straight to the broker by a fault test, in no outbox
                    continue
                event_id = check_record(record, problems)
                if event_id is not None:
                    seen[record.topic()].add(event_id)
                    waiting.discard(event_id)
    finally:
        consumer.close()

    assert not problems, "\n".join(problems[:20])
    assert not waiting, f"{len(waiting)} published events never read, e.g. {sorted(waiting)[:5]}"
    for event_id, topic in expected.items():
        assert event_id in seen[topic], (event_id, topic)
    assert all(seen[name] for name in SEEDED), {name: len(seen[name]) for name in SEEDED}
