"""Test fixtures shared by every tier.

One embedded stack per test run (PostgreSQL, Redis and tansu from the wheels, in a temporary
home); point QOSYM_POSTGRES_URL / QOSYM_REDIS_URL / QOSYM_KAFKA_BOOTSTRAP_SERVERS at real servers to
use those instead. Component tests get a fresh migrated database per test (a copy of a migrated
template); end-to-end tests use the whole stack with every service process running.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, ExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from qosym_chassis.cli import migrations_dir
from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext, build_context
from qosym_chassis.migrations import upgrade
from qosym_chassis.settings import ServiceSettings
from qosym_cli.stack import LocalStack
from qosym_cli.tokens import keys_dir, mint_token


@pytest.fixture(scope="session")
def stack_home() -> Iterator[Path]:
    configured = os.environ.get("QOSYM_TEST_HOME")
    home = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="qosym-test-", dir="/tmp"))
    yield home
    if not configured and not os.environ.get("QOSYM_TEST_KEEP"):
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def _containers() -> Iterator[None]:
    """QOSYM_TEST_BACKEND=testcontainers: real Apache Kafka, PostgreSQL and Redis in Docker containers."""
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.community.redis import RedisContainer

    with (
        PostgresContainer("postgres:17", driver=None) as postgres,
        RedisContainer("redis:7") as redis,
        KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft() as kafka,
    ):
        url = postgres.get_connection_url()
        os.environ["QOSYM_POSTGRES_URL"] = url.rsplit("/", 1)[0]
        os.environ["QOSYM_REDIS_URL"] = f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0"
        os.environ["QOSYM_KAFKA_BOOTSTRAP_SERVERS"] = kafka.get_bootstrap_server()
        os.environ["QOSYM_KAFKA_IDEMPOTENCE"] = "true"
        yield


@pytest.fixture(scope="session")
def stack_servers(stack_home: Path) -> Iterator[LocalStack]:
    """PostgreSQL, Redis and the Kafka-protocol broker, started once for the whole run."""
    with ExitStack() as resources:
        if os.environ.get("QOSYM_TEST_BACKEND") == "testcontainers":
            resources.enter_context(_containers())
        yield from _stack_servers(stack_home)


def _stack_servers(stack_home: Path) -> Iterator[LocalStack]:
    stack = LocalStack(stack_home)
    stack.plan()
    try:
        stack.start_servers()
        stack.create_topics()
        yield stack
    finally:
        if not os.environ.get("QOSYM_TEST_KEEP"):
            stack.stop()


@pytest.fixture(scope="session")
def running_stack(stack_servers: LocalStack) -> LocalStack:
    """Every service as its own processes (api, consumers, relay), migrated and seeded with demo regions."""
    stack = stack_servers
    stack.create_databases()
    stack.run_migrations()
    stack.start_services()
    stack.wait_until_ready(timeout_s=180)
    stack.seed_demo_data()
    _wait_until_regions_reached(stack, ("registry", "catalog", "attendance", "payments"))
    return stack


def _wait_until_regions_reached(stack: LocalStack, consumers: tuple[str, ...], timeout_s: float = 60) -> None:
    """Seeding is asynchronous: wait until every consumer of RegionConfigured has applied each one."""
    query = "select count(*) from {table} where topic = 'allocation.region.v1'"

    async def counts() -> tuple[int, list[int]]:
        async def count(service: str, table: str) -> int:
            conn = await asyncpg.connect(stack.state.database_urls[service].replace("+asyncpg", ""))
            try:
                return int(await conn.fetchval(query.format(table=table)))
            finally:
                await conn.close()

        published = await count("allocation", "outbox")
        return published, [await count(service, "inbox") for service in consumers]

    deadline = time.monotonic() + timeout_s
    while True:
        published, applied = asyncio.run(counts())
        if published and all(n == published for n in applied):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"regions not propagated: {published} published, applied {applied}")
        time.sleep(0.5)


# --- identity -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def token(stack_home: Path) -> Callable[..., str]:
    def make(role: str, subject: str | None = None, scope: dict[str, str] | None = None) -> str:
        return mint_token(stack_home, role, subject or str(uuid.uuid4()), scope=scope)

    return make


@pytest.fixture(scope="session")
def jwks_url(stack_home: Path, token: Callable[..., str]) -> Iterator[str]:
    """The test signing key's JWKS, served over HTTP like the registry serves its own."""
    import json

    from jwt.algorithms import OKPAlgorithm

    from qosym_chassis.keys import load_or_create_signing_key

    token("ops")
    kid, key = load_or_create_signing_key(keys_dir(stack_home))
    jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "EdDSA"})

    async def jwks(_: Any) -> JSONResponse:
        return JSONResponse({"keys": [jwk]})

    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=[Route("/jwks.json", jwks)]), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/jwks.json"
    server.should_exit = True
    thread.join(5)


# --- databases ------------------------------------------------------------------------------------


def _server_dsn(stack: LocalStack) -> str:
    url = stack.state.postgres_server_url
    assert url, "component tests need a PostgreSQL server (embedded or QOSYM_POSTGRES_URL)"
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _with_database(server_url: str, name: str) -> str:
    return urlsplit(server_url)._replace(path=f"/{name}").geturl()


@pytest.fixture(scope="session")
async def service_template(stack_servers: LocalStack) -> Callable[[str], Awaitable[str]]:
    templates: dict[str, str] = {}
    lock = asyncio.Lock()
    server = _server_dsn(stack_servers)

    async def ensure(service: str) -> str:
        async with lock:
            if service not in templates:
                name = f"tpl_{service}_{uuid.uuid4().hex[:6]}"
                conn = await asyncpg.connect(server)
                try:
                    await conn.execute(f'CREATE DATABASE "{name}"')
                finally:
                    await conn.close()
                await asyncio.to_thread(upgrade, migrations_dir(service), _with_database(server, name))
                templates[service] = name
            return templates[service]

    return ensure


@pytest.fixture
async def service_db(
    stack_servers: LocalStack, service_template: Callable[[str], Awaitable[str]]
) -> AsyncIterator[Callable[[str], Awaitable[str]]]:
    """``await service_db("registry")``: URL of a fresh, migrated, isolated database."""
    server = _server_dsn(stack_servers)
    created: list[str] = []

    async def make(service: str) -> str:
        template = await service_template(service)
        name = f"t_{service}_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(server)
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await conn.close()
        created.append(name)
        return _with_database(server, name)

    yield make
    conn = await asyncpg.connect(server)
    try:
        for name in created:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# --- a service in-process -------------------------------------------------------------------------


def service_settings(
    service: str, stack: LocalStack, database_url: str, jwks: str, **overrides: Any
) -> ServiceSettings:
    module = importlib.import_module(f"{service}.config")
    settings_class = next(
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, ServiceSettings) and value is not ServiceSettings
    )
    values: dict[str, Any] = {
        "service_name": service,
        "database_url": database_url,
        "kafka_bootstrap_servers": stack.state.kafka_bootstrap_servers,
        "redis_url": stack.state.redis_url,
        "jwks_url": jwks,
        "dev_mode": True,
    }
    if "keys_dir" in settings_class.model_fields:
        values["keys_dir"] = keys_dir(stack.home)
    values.update(overrides)
    return settings_class(**values)


@pytest.fixture
def api_client(
    stack_servers: LocalStack, jwks_url: str
) -> Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]:
    @asynccontextmanager
    async def client(service: str, database_url: str, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = service_settings(service, stack_servers, database_url, jwks_url, **overrides)
        app = importlib.import_module(f"{service}.entrypoints.api").create_app(settings)
        async with (
            LifespanManager(app, startup_timeout=120, shutdown_timeout=60),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
        ):
            yield http

    return client


@pytest.fixture
async def consumer(stack_servers: LocalStack, jwks_url: str) -> AsyncIterator[Callable[..., Awaitable[EventConsumer]]]:
    contexts: list[ServiceContext] = []

    async def make(service: str, database_url: str, **overrides: Any) -> EventConsumer:
        settings = service_settings(service, stack_servers, database_url, jwks_url, **overrides)
        ctx = build_context(settings, "consumers")
        contexts.append(ctx)
        wrapper = EventConsumer(
            service=service,
            engine=ctx.engine,
            session_factory=ctx.session_factory,
            max_attempts=settings.consumer_max_attempts,
            backoff_base_s=0.01,
            backoff_max_s=0.05,
        )
        importlib.import_module(f"{service}.entrypoints.consumers").register(wrapper, ctx)
        return wrapper

    yield make
    for ctx in contexts:
        await ctx.redis.aclose()
        await ctx.engine.dispose()
