"""Partners' API and delivery job against a real database and a real HTTP endpoint: a partner subscribes (the
secret shown once), an event consumed becomes a signed POST, a failing endpoint's delivery is retried then
dead-lettered and replayed; bad input is 422 naming the field; another partner's ids are 404; other roles 403."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conftest import service_settings
from partners.bootstrap import dependencies
from partners.domain import signing
from partners.service_layer.deliveries import deliver_due
from qosym_chassis.consumer import IncomingMessage, Outcome
from qosym_chassis.context import build_context
from qosym_cli.tokens import mint_token
from qosym_contracts.allocation import RoundOpenedV1

pytestmark = pytest.mark.component


@dataclass
class Endpoint:
    """A real HTTP server receiving webhooks; answers ``status`` (500 makes every attempt fail)."""

    status: int = 204
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    got = Endpoint()

    async def hook(request: Request) -> Response:
        got.received.append((dict(request.headers), await request.body()))
        return Response(status_code=got.status)

    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=[Route("/hook", hook, methods=["POST"])]), port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    got.url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/hook"
    yield got
    server.should_exit = True
    thread.join(5)


def partner(home: Any, subject: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(home, 'partner', subject or f'svc-{uuid.uuid4().hex[:12]}')}"}


def round_opened() -> RoundOpenedV1:
    now = datetime.now(UTC)
    return RoundOpenedV1(
        round_id=uuid.uuid4(),
        region_code="astana",
        application_opens_at=now,
        application_closes_at=now,
        reference_date=now.date(),
        seed_sha256="0" * 64,
    )


@pytest.fixture
async def world(service_db, consumer, api_client, stack_servers, jwks_url):
    url = await service_db("partners")
    overrides = {"webhook_max_attempts": 2, "webhook_backoff_base_s": 0.01, "webhook_backoff_max_s": 0.05}
    c = await consumer("partners", url, **overrides)
    ctx = build_context(service_settings("partners", stack_servers, url, jwks_url, **overrides), "consumers")
    deps = dependencies(ctx.settings, ctx)  # type: ignore[arg-type]
    async with api_client("partners", url, **overrides) as client:
        yield client, c, deps, stack_servers.home
    await deps.sender.close()
    await ctx.redis.aclose()
    await ctx.engine.dispose()


async def consume(c: Any, event: Any) -> None:
    outcome = await c.deliver(IncomingMessage(topic=event.topic, body=event.model_dump_json().encode()))
    assert outcome in (Outcome.APPLIED, Outcome.DUPLICATE)


async def test_a_consumed_event_is_posted_signed_to_the_subscribed_endpoint(world, endpoint: Endpoint) -> None:
    client, c, deps, home = world
    me = partner(home)
    types = (await client.get("/v1/webhooks/event-types", params={"limit": 100}, headers=me)).json()
    assert {"event_type": "allocation.RoundOpened", "topic": "allocation.round.v1", "key_field": "round_id"} in types[
        "items"
    ]
    made = await client.post(
        "/v1/webhooks/subscriptions",
        json={"url": endpoint.url, "event_types": ["allocation.RoundOpened"], "description": "bank"},
        headers=me,
    )
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    assert secret.startswith("whsec_")
    listed = await client.get("/v1/webhooks/subscriptions", headers=me)
    assert [s["subscription_id"] for s in listed.json()["items"]] == [made.json()["subscription_id"]]
    assert "secret" not in listed.json()["items"][0] and secret not in listed.text

    event = round_opened()
    await consume(c, event)
    await consume(c, event)  # a duplicate on the topic is one delivery
    assert await deliver_due(deps) == 1
    assert len(endpoint.received) == 1
    headers, body = endpoint.received[0]
    signing.verify(secret, body, headers)
    assert b'"type":"allocation.RoundOpened"' in body and str(event.event_id).encode() in body
    log = (await client.get("/v1/webhooks/deliveries", headers=me)).json()
    assert log["total"] == 1 and log["items"][0]["status"] == "delivered"
    assert log["items"][0]["delivery_id"] == headers["webhook-id"]
    assert await deliver_due(deps) == 0


async def test_an_event_type_nobody_wants_is_not_delivered(world, endpoint: Endpoint) -> None:
    client, c, deps, home = world
    made = await client.post(
        "/v1/webhooks/subscriptions",
        json={"url": endpoint.url, "event_types": ["allocation.RoundClosed"]},
        headers=partner(home),
    )
    assert made.status_code == 201
    await consume(c, round_opened())
    assert await deliver_due(deps) == 0


async def test_a_failing_endpoint_is_retried_dead_lettered_and_replayed(world, endpoint: Endpoint) -> None:
    client, c, deps, home = world
    me = partner(home)
    endpoint.status = 500
    made = await client.post(
        "/v1/webhooks/subscriptions", json={"url": endpoint.url, "event_types": ["allocation.RoundOpened"]}, headers=me
    )
    await consume(c, round_opened())

    deadline = time.monotonic() + 10
    while not (letters := (await client.get("/v1/webhooks/dead-letters", headers=me)).json()["items"]):
        assert time.monotonic() < deadline, "not dead-lettered within 10 s"
        await deliver_due(deps)
        await asyncio.sleep(0.02)
    [letter] = letters
    assert letter["attempts"] == 2 and letter["last_status_code"] == 500 and letter["last_error"] == "HTTP 500"
    assert len(endpoint.received) == 2
    assert {h["webhook-id"] for h, _ in endpoint.received} == {letter["delivery_id"]}

    endpoint.status = 200
    replayed = await client.post(f"/v1/webhooks/deliveries/{letter['delivery_id']}/replay", headers=me)
    assert replayed.status_code == 202 and replayed.json()["status"] == "pending"
    assert await deliver_due(deps) == 1
    signing.verify(made.json()["secret"], endpoint.received[-1][1], endpoint.received[-1][0])
    done = (await client.get(f"/v1/webhooks/deliveries/{letter['delivery_id']}", headers=me)).json()
    assert done["status"] == "delivered" and done["attempts"] == 1
    assert (await client.get("/v1/webhooks/dead-letters", headers=me)).json()["items"] == []
    again = await client.post(f"/v1/webhooks/deliveries/{letter['delivery_id']}/replay", headers=me)
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://x.example/", "event_types": ["allocation.RoundOpened"]}, "url"),
        ({"url": "http://127.0.0.1/h", "event_types": ["allocation.NoSuchThing"]}, "event_types"),
        ({"url": "http://127.0.0.1/h", "event_types": []}, "event_types"),
        ({"url": "http://127.0.0.1/h"}, "event_types"),
        ({"event_types": ["allocation.RoundOpened"]}, "url"),
        ({"url": "http://127.0.0.1/h", "event_types": ["allocation.RoundOpened"], "secret": "mine"}, "secret"),
        ({"url": 5, "event_types": ["allocation.RoundOpened"]}, "url"),
    ],
)
async def test_bad_input_is_422_problem_naming_the_field(world, body: dict[str, Any], field: str) -> None:
    client, _, _, home = world
    answer = await client.post("/v1/webhooks/subscriptions", json=body, headers=partner(home))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"].split(".")[-1] for e in answer.json()["errors"]}, answer.json()


async def test_another_partners_ids_are_404(world, endpoint: Endpoint) -> None:
    client, c, deps, home = world
    mine, theirs = partner(home), partner(home)
    endpoint.status = 500
    made = (
        await client.post(
            "/v1/webhooks/subscriptions",
            json={"url": endpoint.url, "event_types": ["allocation.RoundOpened"]},
            headers=mine,
        )
    ).json()
    await consume(c, round_opened())
    await deliver_due(deps)
    [row] = (await client.get("/v1/webhooks/deliveries", headers=mine)).json()["items"]
    sid, did = made["subscription_id"], row["delivery_id"]
    for method, path in [
        ("GET", f"/v1/webhooks/subscriptions/{sid}"),
        ("DELETE", f"/v1/webhooks/subscriptions/{sid}"),
        ("GET", f"/v1/webhooks/deliveries?subscription_id={sid}"),
        ("GET", f"/v1/webhooks/dead-letters?subscription_id={sid}"),
        ("GET", f"/v1/webhooks/deliveries/{did}"),
        ("POST", f"/v1/webhooks/deliveries/{did}/replay"),
    ]:
        answer = await client.request(method, path, headers=theirs)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/v1/webhooks/subscriptions", headers=theirs)).json()["items"] == []
    assert (await client.get("/v1/webhooks/deliveries", headers=theirs)).json()["total"] == 0
    assert (await client.get(f"/v1/webhooks/subscriptions/{sid}", headers=mine)).status_code == 200
    assert (await client.delete(f"/v1/webhooks/subscriptions/{sid}", headers=mine)).status_code == 204
    assert (await client.get(f"/v1/webhooks/deliveries/{did}", headers=mine)).status_code == 404


@pytest.mark.parametrize("role", ["parent", "provider_staff", "operator", "administrator", "auditor", "ops"])
async def test_other_roles_are_refused(world, role: str) -> None:
    client, _, _, home = world
    scope = (
        {"region": "astana"}
        if role == "operator"
        else {"provider": str(uuid.uuid4())}
        if role == "provider_staff"
        else None
    )
    headers = {"Authorization": f"Bearer {mint_token(home, role, str(uuid.uuid4()), scope=scope)}"}
    for method, path, body in [
        ("GET", "/v1/webhooks/event-types", None),
        ("GET", "/v1/webhooks/subscriptions", None),
        (
            "POST",
            "/v1/webhooks/subscriptions",
            {"url": "http://127.0.0.1/h", "event_types": ["allocation.RoundOpened"]},
        ),
        ("GET", "/v1/webhooks/deliveries", None),
        ("GET", "/v1/webhooks/dead-letters", None),
    ]:
        answer = await client.request(method, path, json=body, headers=headers)
        assert answer.status_code == 403, (role, method, path, answer.status_code)
    assert (await client.get("/v1/webhooks/subscriptions")).status_code == 401


async def test_the_partners_guide_is_a_browsable_page_with_its_asyncapi_documents(world) -> None:
    client, _, _, _ = world
    assert (await client.get("/guide")).status_code == 308
    page = await client.get("/guide/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h2>Webhooks: for a partner without a Kafka client</h2>" in page.text
    assert "<table>" in page.text and 'href="asyncapi/registry.json"' in page.text
    document = await client.get("/guide/asyncapi/registry.json")
    assert document.status_code == 200 and document.json()["asyncapi"] == "3.0.0"
    for name in ("nothing.json", "..%2Fpartners.md", "registry.yaml"):
        missing = await client.get(f"/guide/asyncapi/{name}")
        assert missing.status_code == 404, name
