"""The live stream over a real HTTP server: a subscribed client receives each message as the consumer commits it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from notifications.adapters.live import InboxHub
from notifications.bootstrap import texts_for
from notifications.config import NotificationsSettings
from notifications.entrypoints.api import create_app
from notifications.service_layer import stream as streams
from notifications.service_layer.inbox import Reader
from notifications.service_layer.texts import RenderedMessage
from qosym_cli.tokens import keys_dir
from tests.support.events import child_registered, message

from .support import bearer, enrolment_requested, serving, submitted

pytestmark = pytest.mark.component


@pytest.fixture
def live_api(stack_servers, jwks_url):
    """The notifications API as a real server (streams need one: an in-process client buffers whole bodies)."""

    @contextmanager
    def run(database_url: str) -> Iterator[str]:
        settings = NotificationsSettings(
            database_url=database_url,
            kafka_bootstrap_servers=stack_servers.state.kafka_bootstrap_servers,
            redis_url=stack_servers.state.redis_url,
            jwks_url=jwks_url,
            keys_dir=keys_dir(stack_servers.home),
            dev_mode=True,
        )
        with serving(create_app(settings)) as port:
            yield f"http://127.0.0.1:{port}"

    return run


class Events:
    """Server-sent events read from an open response, one at a time."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, timeout_s: float = 10.0) -> dict[str, Any]:
        return await asyncio.wait_for(self._next(), timeout_s)

    async def _next(self) -> dict[str, Any]:
        event: dict[str, Any] = {}
        async for line in self._lines:
            if not line:
                if "data" in event:
                    event["data"] = json.loads(event["data"])
                    return event
                event = {}
                continue
            if line.startswith(":"):
                continue
            name, _, text = line.partition(":")
            event[name] = text.removeprefix(" ")
        raise AssertionError("the stream ended")


@asynccontextmanager
async def subscribed(base: str, **request: Any) -> AsyncIterator[Events]:
    async with (
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(30, read=60)) as client,
        client.stream("GET", "/v1/inbox/stream", **request) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        events = Events(response)
        ready = await events.next()
        assert ready["event"] == "ready"
        yield events


async def test_a_subscribed_client_receives_each_new_message_as_it_happens(
    service_db, consumer, live_api, token
) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    parent, child = uuid4(), uuid4()
    with live_api(url) as base:
        async with subscribed(base, headers=bearer(token("parent", subject=str(parent)))) as events:
            await c.deliver(message(child_registered(uuid4())))  # someone else's child: never on this stream
            await c.deliver(message(child_registered(parent, child)))
            first = await events.next()
            await c.deliver(message(submitted(child)))
            second = await events.next()

    assert (first["event"], first["data"]["kind"], first["data"]["title"]) == (
        "message",
        "child_registered",
        "Child registered",
    )
    assert first["data"]["subject_id"] == str(child)
    assert (second["event"], second["data"]["kind"]) == ("message", "application_received")
    assert int(first["id"]) == first["data"]["seq"] < int(second["id"])


async def test_a_reconnect_with_last_event_id_replays_what_was_missed(service_db, consumer, live_api, token) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    parent, child = uuid4(), uuid4()
    headers = bearer(token("parent", subject=str(parent)))
    with live_api(url) as base:
        async with subscribed(base, headers=headers) as events:
            await c.deliver(message(child_registered(parent, child)))
            seen = await events.next()
        await c.deliver(message(submitted(child)))  # while disconnected
        await c.deliver(message(submitted(child)))
        async with subscribed(base, headers={**headers, "Last-Event-ID": seen["id"]}) as events:
            missed = [await events.next(), await events.next()]

    assert [m["data"]["kind"] for m in missed] == ["application_received", "application_received"]
    assert int(seen["id"]) < int(missed[0]["id"]) < int(missed[1]["id"])


async def test_a_browser_opens_the_stream_with_a_single_use_ticket(service_db, consumer, live_api, token) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    parent = uuid4()
    with live_api(url) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            issued = await client.post("/v1/inbox/stream-tickets", headers=bearer(token("parent", subject=str(parent))))
        assert issued.status_code == 201
        ticket = issued.json()["ticket"]
        assert issued.json()["stream_url"] == f"/v1/inbox/stream?ticket={ticket}"
        async with subscribed(base, params={"ticket": ticket}) as events:
            await c.deliver(message(child_registered(parent)))
            received = await events.next()
        async with httpx.AsyncClient(base_url=base) as client:
            reused = await client.get("/v1/inbox/stream", params={"ticket": ticket})
            forged = await client.get("/v1/inbox/stream", params={"ticket": "x" * 43})
            anonymous = await client.get("/v1/inbox/stream")
            auditor = await client.get("/v1/inbox/stream", headers=bearer(token("auditor")))
            no_ticket_for_auditors = await client.post("/v1/inbox/stream-tickets", headers=bearer(token("auditor")))
            bad_resume = await client.get(
                "/v1/inbox/stream", headers={**bearer(token("parent", subject=str(parent))), "Last-Event-ID": "x"}
            )

    assert received["data"]["kind"] == "child_registered"
    assert (reused.status_code, forged.status_code, anonymous.status_code) == (401, 401, 401)
    assert reused.headers["content-type"].startswith("application/problem+json")
    assert (auditor.status_code, no_ticket_for_auditors.status_code) == (403, 403)
    assert bad_resume.status_code == 422 and bad_resume.json()["errors"][0]["field"] == "Last-Event-ID"


async def test_a_providers_staff_stream_carries_the_providers_messages(service_db, consumer, live_api, token) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    provider = uuid4()
    staff = bearer(token("provider_staff", subject=str(uuid4()), scope={"provider": str(provider)}))
    with live_api(url) as base:
        async with subscribed(base, headers=staff) as events:
            await c.deliver(message(enrolment_requested(uuid4(), uuid4(), uuid4())))  # another provider's
            await c.deliver(message(enrolment_requested(uuid4(), uuid4(), provider)))
            received = await events.next()

    assert received["data"]["kind"] == "enrolment_requested"
    assert received["data"]["payload"]["provider_id"] == str(provider)


async def test_the_stream_is_ready_only_once_listening_and_delivers_what_is_committed_right_after(
    service_db, consumer
) -> None:
    """A client acts on ``ready``: whatever is committed from then on reaches the stream, even on a slow start."""
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    parent, child = uuid4(), uuid4()
    hub = InboxHub(url)  # not listening yet: the api process has just started, or its connection is coming back
    reader = Reader(person_id=parent, audiences=(f"person:{parent}",))
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    stream = streams.messages_as_committed(
        sessions, hub, texts_for(NotificationsSettings(database_url=url)), reader, None
    )
    first = asyncio.ensure_future(anext(stream))
    try:
        await c.deliver(message(child_registered(parent, child)))  # committed while nobody listens
        assert not first.done(), "the stream announced readiness before it was listening"
        hub.start()
        ready = await asyncio.wait_for(first, 30)
        assert isinstance(ready, streams.Ready) and hub.listening.is_set()
        await c.deliver(message(submitted(child)))  # right after ready, before the first read
        received = await asyncio.wait_for(anext(stream), 30)
    finally:
        await stream.aclose()
        await hub.stop()
        await engine.dispose()

    assert isinstance(received, RenderedMessage) and received.kind == "application_received"
    assert received.seq > ready.last_event_id


async def test_a_providers_answer_in_a_conversation_arrives_live_on_the_guardians_stream(
    service_db, consumer, live_api, token
) -> None:
    from qosym_contracts.conversations import MessagePostedV1

    url = await service_db("notifications")
    c = await consumer("notifications", url)
    parent, staff = uuid4(), uuid4()
    answer = MessagePostedV1(
        thread_id=uuid4(),
        message_id=uuid4(),
        object_type="enrolment",
        object_id=uuid4(),
        counterpart="provider",
        author_role="provider_staff",
        author_id=staff,
        recipient_guardian_ids=[parent],
    )
    with live_api(url) as base:
        async with subscribed(base, headers=bearer(token("parent", subject=str(parent)))) as events:
            await c.deliver(message(answer))
            received = await events.next()

    assert (received["event"], received["data"]["kind"], received["data"]["title"]) == (
        "message",
        "message_posted",
        "New message in a conversation about an enrolment",
    )
    assert received["data"]["subject_id"] == str(answer.thread_id)
