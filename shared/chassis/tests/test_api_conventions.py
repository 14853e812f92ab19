"""The service app every API is built on: problem+json, idempotency keys, CORS, health, metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from qosym_chassis.api import create_service_app
from qosym_chassis.auth import CurrentPrincipal
from qosym_chassis.settings import ServiceSettings

pytestmark = pytest.mark.component
calls: list[str] = []


class ThingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=20)
    count: int = Field(ge=1, strict=True)


router = APIRouter()


@router.post("/v1/things", status_code=status.HTTP_201_CREATED)
async def create_thing(body: ThingIn, principal: CurrentPrincipal) -> dict[str, str]:
    calls.append(body.name)
    await asyncio.sleep(0.3)
    return {"name": body.name, "by": principal.subject}


@router.get("/v1/boom")
async def boom() -> None:
    raise RuntimeError("secret detail: 180905600123 in SELECT * FROM child")


@router.post("/v1/sql-boom")
async def sql_boom(request: Request) -> None:
    """A real database error whose statement carries personal data as parameters (a bug, not bad input)."""
    async with request.app.state.context.engine.connect() as conn:
        await conn.execute(
            text("select no_such_column from effect where note = :note"), {"note": "Aigerim 900101300123"}
        )


@router.post("/v1/store-note")
async def store_note(request: Request) -> None:
    """Stores raw text without validation: a NUL byte reaches PostgreSQL (the safety net's case)."""
    body = await request.json()
    async with request.app.state.context.engine.begin() as conn:
        await conn.execute(
            text("insert into effect (event_id, note) values (gen_random_uuid(), :note)"), {"note": body["note"]}
        )


@pytest.fixture
async def client(engine, stack_servers, jwks_url) -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(
        service_name="chassis-test",
        database_url=str(engine.url.render_as_string(hide_password=False)),
        kafka_bootstrap_servers=stack_servers.state.kafka_bootstrap_servers,
        redis_url=stack_servers.state.redis_url,
        jwks_url=jwks_url,
        cors_origins=["https://portal.example"],
    )
    app = create_service_app(settings, title="test", description="test", routers=[router])
    calls.clear()
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://test"
        ) as http,
    ):
        yield http


async def test_validation_errors_are_problem_json_naming_each_field(client, token):
    response = await client.post(
        "/v1/things",
        json={"name": "", "count": "3", "extra": 1},
        headers={"Authorization": f"Bearer {token('parent')}"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in response.json()["errors"]} == {"name", "count", "extra"}
    assert calls == []


async def test_an_unexpected_error_is_a_generic_500_with_a_trace_id_and_no_details(client):
    response = await client.get("/v1/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["type"] == "internal-error"
    assert "secret" not in response.text and "SELECT" not in response.text and "180905600123" not in response.text
    assert "trace_id" in body


async def test_an_idempotency_key_replays_refuses_other_bodies_and_serialises_duplicates(client, token):
    headers = {"Authorization": f"Bearer {token('parent')}", "Idempotency-Key": "abc"}
    first, concurrent = await asyncio.gather(
        client.post("/v1/things", json={"name": "a", "count": 1}, headers=headers),
        client.post("/v1/things", json={"name": "a", "count": 1}, headers=headers),
    )
    replay = await client.post("/v1/things", json={"name": "a", "count": 1}, headers=headers)
    other = await client.post("/v1/things", json={"name": "b", "count": 1}, headers=headers)
    assert sorted([first.status_code, concurrent.status_code]) == [201, 409]
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    assert calls == ["a"]


async def test_keys_are_scoped_to_the_caller(client, token):
    body = {"name": "a", "count": 1}
    for _ in range(2):
        response = await client.post(
            "/v1/things", json=body, headers={"Authorization": f"Bearer {token('parent')}", "Idempotency-Key": "k"}
        )
        assert response.status_code == 201
    assert calls == ["a", "a"]


async def test_cors_allows_only_configured_origins(client):
    def preflight(origin: str):
        return client.options("/v1/things", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})

    allowed, denied = await preflight("https://portal.example"), await preflight("https://evil.example")
    assert allowed.headers.get("access-control-allow-origin") == "https://portal.example"
    assert "access-control-allow-origin" not in denied.headers


async def test_health_and_metrics(client):
    assert (await client.get("/health/live")).status_code == 200
    for _ in range(50):  # the broker connects in the background after start-up
        ready = await client.get("/health/ready")
        if ready.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "redis": "ok"}
    metrics = await client.get("/metrics/")
    assert "qosym_http_request_duration_seconds" in metrics.text


async def test_a_body_over_one_mebibyte_is_refused(client, token):
    response = await client.post(
        "/v1/things",
        content=b"x" * (1024 * 1024 + 1),
        headers={"Authorization": f"Bearer {token('parent')}", "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413


async def test_a_streamed_body_over_one_mebibyte_is_a_problem_json_413(client, token):
    async def chunks():
        for _ in range(20):
            yield b"x" * 65536

    response = await client.post(
        "/v1/things",
        content=chunks(),
        headers={"Authorization": f"Bearer {token('parent')}", "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_database_error_is_logged_without_its_parameters_or_message(client, caplog):
    caplog.set_level(logging.DEBUG)
    response = await client.post("/v1/sql-boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "ProgrammingError" in caplog.text or "UndefinedColumn" in caplog.text
    assert response.json()["trace_id"] in caplog.text
    assert "Aigerim" not in caplog.text and "900101300123" not in caplog.text
    assert "no_such_column" not in caplog.text  # the message itself stays out too


async def test_a_value_the_database_cannot_store_is_a_422_not_a_500(client, caplog, engine):
    caplog.set_level(logging.DEBUG)
    response = await client.post("/v1/store-note", json={"note": "Aigerim\u0000Secretova"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "Secretova" not in caplog.text
    async with engine.connect() as conn:
        assert (await conn.execute(text("select count(*) from effect"))).scalar() == 0
