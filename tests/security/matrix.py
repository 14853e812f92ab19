"""The authorisation matrix harness: every operation of a service's OpenAPI document that selects an object is
tried by each foreign role (refused with 403/404, nothing changed) and by each owner (2xx).

A service's matrix (``tests/security/test_matrix_<service>.py``) is data: one :class:`Entry` per operation that
takes an object id, naming the factory that creates the object through the service's own API and consumers, who
owns it, and which foreign roles must be refused; :class:`Public` lists operations anyone may call, with the
reason. :func:`coverage_problems` compares the matrix with the OpenAPI document: an operation with an id parameter
and no entry, or an entry for an operation that no longer exists, fails the test.

One database and one in-process app per service per module (isolation by fresh objects per entry); every foreign
request is bracketed by a digest of every table of the service's database, so "changed nothing" includes the
outbox, the inbox and the audit trail.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
from asgi_lifespan import LifespanManager

from conftest import service_settings  # the root conftest's settings of a service in-process
from qosym_chassis import roles
from qosym_chassis.consumer import EventConsumer, IncomingMessage, Outcome
from qosym_chassis.context import ServiceContext, build_context
from qosym_cli.stack import LocalStack
from qosym_cli.tokens import mint_token, role_password
from qosym_contracts.envelope import IntegrationEvent

Headers = dict[str, str]

# query parameters that select another tenant's data (path parameters always do)
ID_QUERY_SUFFIXES = ("_id",)
ID_QUERY_NAMES = ("region_code", "ticket")

# --- roles ------------------------------------------------------------------------------------------------

OWNER_ROLES = ("guardian", "own_staff", "region_operator", "administrator", "subject", "partner")
FOREIGN_ROLES = (
    "other_parent",  # a parent who is not the child's guardian
    "other_provider",  # staff of another provider
    "other_region_operator",  # an operator of Almaty (every object of the matrix lives in Astana)
    "unscoped_operator",  # an operator token without a scope claim
    "bad_scope_operator",  # an operator token whose scope claim is not an object
    "auditor",  # refused on writes only (reads are the auditor's job)
    "ops",  # operations staff: refused on writes only (operational reads are theirs)
    "partner",  # the treasury's client-credentials token: reaches payment orders only
)
WRITE_ONLY_ROLES = ("auditor", "ops")  # tried on writes only
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Tokens:
    """Signs development tokens with the test stack's key (the JWKS the in-process apps verify against)."""

    home: Path

    def claims(self, role: str, subject: str | None = None, scope: Any = None, ttl_s: int = 600) -> str:
        return mint_token(self.home, role, subject or str(uuid.uuid4()), ttl_s=ttl_s, scope=scope)

    def headers(self, role: str, subject: str | None = None, scope: Any = None) -> Headers:
        return {"Authorization": f"Bearer {self.claims(role, subject, scope)}"}

    def foreign(self, role: str) -> Headers:
        if role == "other_parent":
            return self.headers("parent")
        if role == "other_provider":
            return self.headers("provider_staff", scope={"provider": str(uuid.uuid4())})
        if role == "other_region_operator":
            return self.headers("operator", scope={"region": "almaty"})
        if role == "unscoped_operator":
            return self.headers("operator")
        if role == "bad_scope_operator":
            return self.headers("operator", scope="region=astana")
        if role in ("auditor", "partner", "ops"):
            return self.headers(role)
        raise ValueError(role)

    def parent(self, person_id: Any) -> Headers:
        return self.headers("parent", str(person_id))

    def staff(self, provider_id: Any) -> Headers:
        return self.headers("provider_staff", scope={"provider": str(provider_id)})

    def operator(self, region: str = "astana") -> Headers:
        return self.headers("operator", scope={"region": region})

    def administrator(self) -> Headers:
        return self.headers("administrator")


# --- the matrix -------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One object, made ready for one request: the path parameters, query and body of the request, and the
    headers of each owner (by owner role)."""

    path: Mapping[str, Any]
    owners: Mapping[str, Headers]
    query: Mapping[str, Any] | None = None
    body: Any = None
    expect: int | None = None  # the owner's exact success status, when it matters (default: any 2xx)
    files: Any = None  # multipart: ``body`` is then the form fields
    marker: str | None = None  # a listing: the object's id, which a foreign 2xx must not contain and owners' must


Factory = Callable[["World"], Awaitable[Case]]


@dataclass(frozen=True)
class Entry:
    method: str
    path: str
    factory: Factory
    owners: tuple[str, ...]
    refused: tuple[str, ...] = FOREIGN_ROLES
    allowed: Mapping[str, str] = field(default_factory=dict)  # foreign role -> why it may succeed
    refusals: tuple[int, ...] = (403, 404)  # 422 too where the object id travels in the body (naming the field)
    variant: str = ""  # several entries of one operation: one per kind of object (e.g. whose inbox holds it)
    listing: bool = False  # a filtered list: a foreign caller may get 2xx, without the object (Case.marker) in it
    note: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.variant}]" if self.variant else "")

    def refused_roles(self) -> tuple[str, ...]:
        return tuple(
            r
            for r in self.refused
            if r not in self.allowed
            and r not in self.owners  # a foreign role that owns this operation (the treasury's partner)
            and (r not in WRITE_ONLY_ROLES or self.method in WRITE_METHODS)
        )


@dataclass(frozen=True)
class Public:
    method: str
    path: str
    reason: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


def operations(openapi: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """(method, path) -> the names of its id parameters, for every operation of an OpenAPI document."""
    found: dict[tuple[str, str], list[str]] = {}
    for path, item in openapi["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            ids = [
                p["name"]
                for p in op.get("parameters", [])
                if p["in"] == "path"
                or (p["in"] == "query" and (p["name"] in ID_QUERY_NAMES or p["name"].endswith(ID_QUERY_SUFFIXES)))
            ]
            found[(method.upper(), path)] = ids
    return found


def coverage_problems(openapi: dict[str, Any], entries: list[Entry], public: list[Public]) -> list[str]:
    ops = operations(openapi)
    listed = [e.key for e in entries] + [p.key for p in public]
    ids = [e.id for e in entries] + [f"{p.method} {p.path}" for p in public]
    problems = [f"{i}: listed twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    problems += [
        f"{m} {p}: both public and in the matrix" for (m, p) in {p.key for p in public} & {e.key for e in entries}
    ]
    problems += [
        f"{m} {p}: in the matrix but not in the OpenAPI document" for (m, p) in sorted(set(listed)) if (m, p) not in ops
    ]
    problems += [
        f"{m} {p}: takes {', '.join(ids)} but has no matrix entry (add an Entry, or Public with a reason)"
        for (m, p), ids in sorted(ops.items())
        if ids and (m, p) not in listed
    ]
    return problems


# --- a service in-process against its own migrated database ------------------------------------------------


@dataclass
class World:
    service: str
    url: str
    app: Any
    client: httpx.AsyncClient
    consumer: EventConsumer
    tokens: Tokens
    openapi: dict[str, Any]
    digest_sql: str
    conn: asyncpg.Connection
    state: dict[str, Any] = field(default_factory=dict)  # factories' shared objects (e.g. one verified provider)

    async def deliver(self, *events: IntegrationEvent) -> None:
        for event in events:
            outcome = await self.consumer.deliver(
                IncomingMessage(topic=event.topic, body=event.model_dump_json().encode())
            )
            assert outcome in (Outcome.APPLIED, Outcome.DUPLICATE), (event.event_type, outcome)

    async def digest(self) -> dict[str, str]:
        return {r["t"]: r["d"] for r in await self.conn.fetch(self.digest_sql)}

    async def value(self, sql: str, *args: Any) -> Any:
        return await self.conn.fetchval(sql, *args)


async def _digest_sql(conn: asyncpg.Connection) -> str:
    tables = [
        r["tablename"]
        for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
            "ORDER BY tablename"
        )
    ]
    return " UNION ALL ".join(
        f"SELECT '{t}' AS t, count(*)::text || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), ''))"
        f' AS d FROM "{t}" x'
        for t in tables
    )


@asynccontextmanager
async def open_world(
    service: str,
    stack: LocalStack,
    template: Callable[[str], Awaitable[str]],
    jwks: str,
    **overrides: Any,
) -> AsyncIterator[World]:
    """The service's app and consumer in-process on a fresh copy of its migrated template database."""
    server = stack.state.postgres_server_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"t_{service}_matrix_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server)
    try:
        template_name = await template(service)
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}" OWNER {roles.owner_role(service)}')
    finally:
        await admin.close()
    url = urlsplit(server)._replace(path=f"/{name}").geturl()  # the superuser's: the digest reads every table
    app_role = roles.app_role(service)  # the service runs as its least-privileged role, as its processes do
    app_url = roles.with_credentials(url, app_role, role_password(stack.home, app_role))
    settings = service_settings(service, stack, app_url, jwks, **overrides)
    ctx: ServiceContext = build_context(settings, "consumers")
    wrapper = EventConsumer(
        service=service,
        engine=ctx.engine,
        session_factory=ctx.session_factory,
        max_attempts=settings.consumer_max_attempts,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
    )
    importlib.import_module(f"{service}.entrypoints.consumers").register(wrapper, ctx)
    app = importlib.import_module(f"{service}.entrypoints.api").create_app(settings)
    conn = await asyncpg.connect(url)
    try:
        async with (
            LifespanManager(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
        ):
            yield World(
                service=service,
                url=url,
                app=app,
                client=client,
                consumer=wrapper,
                tokens=Tokens(stack.home),
                openapi=app.openapi(),
                digest_sql=await _digest_sql(conn),
                conn=conn,
            )
    finally:
        await conn.close()
        await ctx.redis.aclose()
        await ctx.engine.dispose()
        admin = await asyncpg.connect(server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# --- running one entry --------------------------------------------------------------------------------------


async def send(world: World, entry: Entry, case: Case, headers: Headers) -> httpx.Response:
    path = entry.path.format(**{k: str(v) for k, v in case.path.items()})
    params = {k: str(v) for k, v in (case.query or {}).items()} or None
    if case.files is not None:
        return await world.client.request(
            entry.method, path, params=params, data=case.body, files=case.files, headers=headers
        )
    return await world.client.request(entry.method, path, params=params, json=case.body, headers=headers)


async def check(world: World, entry: Entry) -> None:
    """Each foreign role is refused (403/404) and changes nothing; then each owner succeeds on the same request
    (on the same object for the first owner, on a fresh one for the next owners of a write)."""
    case = await entry.factory(world)
    failures: list[str] = []
    # a filtered listing is also tried without its query (the caller's own default view must not hold the object)
    variants = (
        [case, Case(path=case.path, owners=case.owners, marker=case.marker)] if entry.listing and case.query else [case]
    )
    for role in entry.refused_roles():
        for variant in variants:
            before = await world.digest()
            response = await send(world, entry, variant, world.tokens.foreign(role))
            after = await world.digest()
            hidden = (
                entry.listing and response.is_success and case.marker is not None and case.marker not in response.text
            )
            if response.status_code not in entry.refusals and not hidden:
                query = "" if variant.query else " (without the query)" if entry.listing and case.query else ""
                failures.append(f"{role}{query}: {response.status_code} {response.text[:200]}")
            changed = sorted(t for t in before if before[t] != after.get(t))
            if changed:
                failures.append(f"{role}: changed tables {changed}")
    assert set(entry.owners) <= set(case.owners), (
        f"the factory gives no headers for {set(entry.owners) - set(case.owners)}"
    )
    for n, owner in enumerate(entry.owners):
        if n and entry.method in WRITE_METHODS:
            case = await entry.factory(world)
        response = await send(world, entry, case, case.owners[owner])
        ok = response.status_code == case.expect if case.expect else response.is_success
        if not ok:
            failures.append(f"owner {owner}: {response.status_code} {response.text[:300]}")
        elif case.marker is not None and case.marker not in response.text:
            failures.append(f"owner {owner}: {response.status_code} without {case.marker}: {response.text[:300]}")
    assert not failures, f"{entry.id}:\n  " + "\n  ".join(failures)
