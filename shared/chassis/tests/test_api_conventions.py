"""The service app every API is built on: problem+json, idempotency keys, CORS, health, metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, text, update

from qosym_chassis import errors, idempotency
from qosym_chassis.api import create_service_app
from qosym_chassis.auth import CurrentPrincipal
from qosym_chassis.settings import ServiceSettings
from qosym_cli.tokens import mint_token

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


@router.post("/v1/sessions", status_code=status.HTTP_201_CREATED)
async def open_session(body: ThingIn) -> dict[str, str]:
    """Anonymous, like a login: hands out a secret."""
    calls.append(body.name)
    return {"name": body.name, "secret": f"secret-{len(calls)}"}


@router.post("/v1/seeds", status_code=status.HTTP_201_CREATED, openapi_extra=idempotency.NOT_STORED)
async def new_seed(body: ThingIn, principal: CurrentPrincipal) -> dict[str, str]:
    """Authenticated, but answers with a one-time secret: never stored."""
    calls.append(body.name)
    return {"name": body.name, "seed": f"seed-{len(calls)}"}


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
def settings_overrides() -> dict[str, object]:
    return {}


@pytest.fixture
async def client(engine, stack_servers, jwks_url, settings_overrides) -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(
        service_name="chassis-test",
        database_url=str(engine.url.render_as_string(hide_password=False)),
        kafka_bootstrap_servers=stack_servers.state.kafka_bootstrap_servers,
        redis_url=stack_servers.state.redis_url,
        jwks_url=jwks_url,
        cors_origins=["https://portal.example"],
        **settings_overrides,
    )
    app = create_service_app(settings, title="test", description="test", routers=[router])
    calls.clear()
    async with (
        LifespanManager(app, startup_timeout=120, shutdown_timeout=60),
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


async def stored_keys(engine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(idempotency.IDEMPOTENCY))).scalar_one())


async def test_one_callers_stored_response_is_never_replayed_to_another(client, token, engine):
    body, first, second = {"name": "a", "count": 1}, token("parent"), token("parent")
    mine = await client.post(
        "/v1/things", json=body, headers={"Authorization": f"Bearer {first}", "Idempotency-Key": "k"}
    )
    theirs = await client.post(
        "/v1/things", json=body, headers={"Authorization": f"Bearer {second}", "Idempotency-Key": "k"}
    )
    assert mine.json()["by"] != theirs.json()["by"] and "idempotent-replayed" not in theirs.headers
    assert await stored_keys(engine) == 2


async def test_anonymous_requests_take_no_part_so_a_secret_is_never_replayed_to_another_client(client, engine):
    """The attack: a victim logs in with a key; anyone sending the same body and key got the victim's secret."""
    body, headers = {"name": "victim", "count": 1}, {"Idempotency-Key": "login-1"}
    victim = await client.post("/v1/sessions", json=body, headers=headers)
    attacker = await client.post("/v1/sessions", json=body, headers=headers)
    assert victim.status_code == attacker.status_code == 201
    assert attacker.json()["secret"] != victim.json()["secret"] and "idempotent-replayed" not in attacker.headers
    assert calls == ["victim", "victim"] and await stored_keys(engine) == 0


async def test_a_route_marked_never_stored_runs_every_time_and_stores_nothing(client, token, engine):
    headers = {"Authorization": f"Bearer {token('administrator')}", "Idempotency-Key": "seed"}
    first = await client.post("/v1/seeds", json={"name": "s", "count": 1}, headers=headers)
    second = await client.post("/v1/seeds", json={"name": "s", "count": 1}, headers=headers)
    assert first.json()["seed"] != second.json()["seed"] and "idempotent-replayed" not in second.headers
    assert await stored_keys(engine) == 0


async def test_an_expired_record_is_not_replayed_and_expired_records_are_pruned(client, token, engine):
    headers = {"Authorization": f"Bearer {token('parent')}", "Idempotency-Key": "old"}
    await client.post("/v1/things", json={"name": "a", "count": 1}, headers=headers)
    other = {"Authorization": f"Bearer {token('parent')}", "Idempotency-Key": "also-old"}
    await client.post("/v1/things", json={"name": "b", "count": 1}, headers=other)
    fresh = {"Authorization": f"Bearer {token('parent')}", "Idempotency-Key": "fresh"}
    await client.post("/v1/things", json={"name": "c", "count": 1}, headers=fresh)
    async with engine.begin() as conn:  # a day and a minute later, for the first two
        await conn.execute(
            update(idempotency.IDEMPOTENCY)
            .where(idempotency.IDEMPOTENCY.c.key != "fresh")
            .values(created_at=func.now() - idempotency.DEFAULT_TTL - timedelta(minutes=1))
        )
    again = await client.post("/v1/things", json={"name": "a", "count": 1}, headers=headers)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert calls == ["a", "b", "c", "a"]
    assert await idempotency.prune(engine) == 1  # "also-old"; "old" was replaced on its claim, "fresh" stays
    assert await stored_keys(engine) == 2
    replayed = await client.post("/v1/things", json={"name": "c", "count": 1}, headers=fresh)
    assert replayed.headers["idempotent-replayed"] == "true"


async def test_a_token_ten_seconds_past_expiry_is_refused(client, stack_home):
    expired = mint_token(stack_home, "parent", "p-1", ttl_s=-10)
    response = await client.post(
        "/v1/things", json={"name": "a", "count": 1}, headers={"Authorization": f"Bearer {expired}"}
    )
    assert response.status_code == 401 and calls == []


@pytest.mark.parametrize("settings_overrides", [{"jwt_leeway_s": 30}])
async def test_the_leeway_is_configurable(client, stack_home):
    expired = mint_token(stack_home, "parent", "p-1", ttl_s=-10)
    response = await client.post(
        "/v1/things", json={"name": "a", "count": 1}, headers={"Authorization": f"Bearer {expired}"}
    )
    assert response.status_code == 201


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


async def test_a_control_character_in_a_query_or_path_parameter_is_a_422_naming_it(client, caplog):
    caplog.set_level(logging.DEBUG)
    query = await client.get("/v1/boom", params={"region_code": "astana\x00Secretova"})
    assert query.status_code == 422
    assert query.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in query.json()["errors"]] == ["region_code"]
    path = await client.get("/v1/boom%1b")
    assert path.status_code == 422 and path.json()["errors"][0]["field"] == "path"
    service_log = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]  # not the test client
    assert not any("Secretova" in line for line in service_log)


# the OpenAPI document frontends read (no servers needed: the document and a validation error touch none)


@router.get("/v1/things/{thing_id}", responses={404: {}})
async def get_thing(thing_id: int, principal: CurrentPrincipal) -> dict[str, str]:
    return {"name": str(thing_id), "by": principal.subject}


def offline_app() -> FastAPI:
    settings = ServiceSettings(service_name="chassis-test", database_url="postgresql://nobody@127.0.0.1:1/none")
    return create_service_app(settings, title="test", description="test", routers=[router])


def offline_document() -> dict[str, Any]:
    document: dict[str, Any] = offline_app().openapi()
    return document


@pytest.mark.unit
def test_every_operation_documents_its_errors_as_the_one_problem_schema() -> None:
    document = offline_document()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["Problem"] == errors.PROBLEM_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in ("/v1/things", "/v1/sessions", "/v1/seeds", "/v1/things/{thing_id}", "/v1/boom"):
        for method, operation in document["paths"][path].items():
            responses = operation["responses"]
            expected = {"400", "401", "403", "404", "409", "422", "429", "500"}
            assert expected <= set(responses), (method, path)
            assert ("413" in responses) == (method == "post"), (method, path)
            for code, response in responses.items():
                if code[0] in "45":
                    assert response["content"] == problem, (method, path, code)
                    assert response["description"], (method, path, code)


@pytest.mark.unit
async def test_the_documented_422_is_what_a_validation_error_answers() -> None:
    schema = offline_document()["components"]["schemas"]["Problem"]
    transport = httpx.ASGITransport(app=offline_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/v1/sessions", json={"name": "", "count": "3"})
    body = response.json()
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert set(schema["required"]) <= set(body) <= set(schema["properties"])
    assert body["errors"] and all(
        set(e) == set(schema["properties"]["errors"]["items"]["properties"]) for e in body["errors"]
    )


@pytest.mark.unit
def test_operation_ids_are_the_route_function_names() -> None:
    ids = {
        (method, path): operation["operationId"]
        for path, item in offline_document()["paths"].items()
        for method, operation in item.items()
    }
    assert ids[("post", "/v1/things")] == "create_thing"
    assert ids[("get", "/v1/things/{thing_id}")] == "get_thing"
    assert ids[("post", "/v1/seeds")] == "new_seed"


@pytest.mark.unit
def test_idempotency_key_is_documented_where_the_middleware_honours_it() -> None:
    paths = offline_document()["paths"]

    def documents_key(method: str, path: str) -> bool:
        parameters = paths[path][method].get("parameters", [])
        return any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in parameters)

    assert documents_key("post", "/v1/things")  # authenticated POST
    assert not documents_key("post", "/v1/sessions")  # anonymous: takes no part
    assert not documents_key("post", "/v1/seeds")  # marked NOT_STORED
    assert not documents_key("get", "/v1/things/{thing_id}")  # not a POST
    key = next(p for p in paths["/v1/things"]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255} and key["required"] is False


async def test_too_many_requests_and_unavailable_are_problems_with_their_headers() -> None:
    from fastapi import FastAPI
    from httpx import ASGITransport, AsyncClient

    from qosym_chassis.errors import TooManyRequests, Unavailable, add_problem_handlers

    app = FastAPI()
    add_problem_handlers(app)

    @app.get("/limited")
    async def limited() -> None:
        raise TooManyRequests("too many attempts; try again later", retry_after_s=900)

    @app.get("/down")
    async def down() -> None:
        raise Unavailable("the inbox cannot be written right now; try again")

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        limited_response = await client.get("/limited")
        down_response = await client.get("/down")
    assert limited_response.status_code == 429
    assert limited_response.headers["retry-after"] == "900"
    assert limited_response.headers["content-type"] == "application/problem+json"
    assert limited_response.json()["type"] == "rate-limited"
    assert down_response.status_code == 503
    assert down_response.json()["title"] == "Service unavailable"
    assert "retry-after" not in down_response.headers


async def test_every_request_leaves_one_access_line_with_its_route_status_duration_and_trace_id(client, token, caplog):
    caplog.set_level(logging.INFO, logger="qosym.access")
    response = await client.post(
        "/v1/things", json={"name": "x"}, headers={"Authorization": f"Bearer {token('parent')}"}
    )
    assert response.status_code == 422
    lines = [r for r in caplog.records if r.name == "qosym.access"]
    assert len(lines) == 1
    line: Any = lines[0]
    assert (line.method, line.route, line.status) == ("POST", "/v1/things", 422)
    assert line.duration_ms >= 0
    assert len(line.trace_id) == 32 and int(line.trace_id, 16) != 0


async def test_health_probes_leave_no_access_line_at_info(client, caplog):
    caplog.set_level(logging.INFO, logger="qosym.access")
    assert (await client.get("/health/live")).status_code == 200
    assert [r for r in caplog.records if r.name == "qosym.access"] == []
