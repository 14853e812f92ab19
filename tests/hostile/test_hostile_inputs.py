"""Hostile input on every write route of every service, generated from each service's OpenAPI document.

For every POST/PUT/PATCH/DELETE operation that takes a JSON body, and every field of that body (nested
objects too): NUL bytes, control characters and overlong text in strings, integers far beyond 64 bits,
dates in year 1 and 9999, and the whole body sent with a wrong content type. Each must be a 4xx
problem+json (a 422 names the field), nothing may be written (the row count of every table of the
service's database is unchanged) and none of the sent values may reach a log.

A new write route or field is covered without editing this file.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import pytest

from qosym_cli.paths import SERVICES

pytestmark = pytest.mark.component

WRITE_METHODS = {"post", "put", "patch", "delete"}
PROBLEM = "application/problem+json"
MARKER = "Hostile7781"
PATH_VALUES = {"code": "astana", "period": "2026-11", "kind": "sanitary"}
HOSTILE_STRINGS = [
    f"{MARKER}\u0000nul",
    f"{MARKER}\u001bescape",
    f"{MARKER}\u0007bell\u0000",
    MARKER + "x" * 20_000,
]
HOSTILE_INTEGERS = [10**30, -(10**30), 2**63]
HOSTILE_DATES = ["0001-01-01", "9999-12-31"]
HOSTILE_DATETIMES = ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00"]


def roles(token: Callable[..., str]) -> list[dict[str, str]]:
    provider = str(uuid.uuid4())
    made = [
        token("administrator"),
        token("operator", scope={"region": "astana"}),
        token("parent"),
        token("provider_staff", scope={"provider": provider}),
        token("ops"),
        token("partner"),
        token("auditor"),
    ]
    return [{"Authorization": f"Bearer {t}"} for t in made] + [{}]


class Schema:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 20:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.document["components"]["schemas"][name]
            seen += 1
        return schema

    def variants(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        """The alternatives of anyOf/oneOf (``X | None``), resolved; or the schema itself."""
        schema = self.resolve(schema)
        options = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
        if options:
            return [v for o in options for v in self.variants(o) if v.get("type") != "null"]
        return [schema]

    def mutations(self, schema: dict[str, Any], depth: int = 0) -> Iterator[tuple[str, Any, str]]:
        """(field path, hostile JSON value wrapped to that path, kind) for every leaf of a body schema."""
        if depth > 4:
            return
        for variant in self.variants(schema):
            kind = variant.get("type")
            if kind == "object" or "properties" in variant:
                for name, sub in (variant.get("properties") or {}).items():
                    for path, value, what in self.mutations(sub, depth + 1):
                        yield (f"{name}.{path}" if path else name), _wrap(name, value), what
                extra = variant.get("additionalProperties")
                if isinstance(extra, dict):
                    # a hostile key, and hostile values under a plain key
                    yield "", {f"{MARKER}\u0000key": None}, "key"
                    for path, value, what in self.mutations(extra, depth + 1):
                        yield (f"k.{path}" if path else "k"), _wrap("k", value), what
            elif kind == "array":
                items = variant.get("items") or {}
                for path, value, what in self.mutations(items, depth + 1):
                    yield (f"0.{path}" if path else "0"), [value], what
            elif kind == "string" and "enum" not in variant and variant.get("format") != "uuid":
                fmt = variant.get("format")
                if fmt == "date":
                    for day in HOSTILE_DATES:
                        yield "", day, "date"
                elif fmt == "date-time":
                    for moment in HOSTILE_DATETIMES:
                        yield "", moment, "date-time"
                elif fmt in (None, "email", "password", "uri"):
                    for text in HOSTILE_STRINGS:
                        yield "", text, "string"
            elif kind == "integer":
                for number in HOSTILE_INTEGERS:
                    yield "", number, "integer"


def _wrap(name: str, value: Any) -> Any:
    return {name: value}


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in WRITE_METHODS:
                yield method.upper(), path, operation


def all_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        if path.endswith("/stream"):  # server-sent events: an open stream, not a request and answer
            continue
        for method, operation in item.items():
            if method in WRITE_METHODS | {"get"}:
                yield method.upper(), path, operation


def query_mutations(schema: Schema, operation: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Hostile values for each query parameter: huge integers, NUL bytes, extreme dates."""
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "query":
            continue
        for variant in schema.variants(parameter.get("schema") or {}):
            kind, fmt = variant.get("type"), variant.get("format")
            if kind == "integer":
                yield parameter["name"], str(2**63)
                yield parameter["name"], str(10**30)
            elif kind == "number":
                yield parameter["name"], "1e400"
            elif kind == "string" and fmt == "date":
                yield parameter["name"], "9999-12-31"
            elif kind == "string" and "enum" not in variant and fmt != "uuid":
                yield parameter["name"], f"{MARKER}\u0000"


def concrete(path: str, operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "path":
            continue
        name = parameter["name"]
        value = PATH_VALUES.get(name, str(uuid.uuid4()))
        path = path.replace("{" + name + "}", value)
    return path


def json_body_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = (operation.get("requestBody") or {}).get("content") or {}
    media = content.get("application/json")
    return media.get("schema") if media else None


async def row_counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "select schemaname, tablename from pg_tables where schemaname not in ('pg_catalog', 'information_schema')"
        )
        counts = {}
        for row in tables:
            name = f'"{row["schemaname"]}"."{row["tablename"]}"'
            counts[name] = int(await conn.fetchval(f"select count(*) from {name}"))
        return counts
    finally:
        await conn.close()


def assert_problem(response: Any, where: str) -> None:
    assert 400 <= response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
    assert response.headers.get("content-type", "").startswith(PROBLEM), f"{where}: {response.headers}"


def field_named(response: Any, top: str) -> bool:
    fields = {str(e.get("field", "")) for e in response.json().get("errors") or []}
    return any(f == top or f.startswith(top + ".") for f in fields)


@pytest.mark.parametrize("service", SERVICES)
async def test_hostile_input_on_every_write_route_is_refused(
    service, service_db, api_client, token, caplog, capfd
) -> None:
    url = await service_db(service)
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    caplog.set_level(logging.DEBUG)
    headers_by_role = roles(token)
    async with api_client(service, url) as client:
        document = (await client.get("/openapi.json")).json()
        schema = Schema(document)
        before = await row_counts(dsn)
        validated: list[str] = []
        refused_by_auth: list[str] = []
        queried: list[str] = []  # query mutations that got past authorisation
        for method, template, operation in operations(document):
            body_schema = json_body_schema(operation)
            path = concrete(template, operation)
            where = f"{service} {method} {template}"
            # a role that passes authorisation: a body that is not an object is then a 422 (never written)
            passing: dict[str, str] | None = None
            for headers in headers_by_role:
                if body_schema is None:
                    break
                probe = await client.request(method, path, json=[MARKER], headers=headers)
                assert_problem(probe, f"{where} with a list for a body")
                if probe.status_code == 422:
                    passing = headers
                    break
            if body_schema is None:
                continue
            if passing is None:
                refused_by_auth.append(where)
                continue
            validated.append(where)
            wrong_type = await client.request(
                method, path, content=f"{MARKER}\u0000".encode(), headers={**passing, "Content-Type": "text/plain"}
            )
            assert_problem(wrong_type, f"{where} with text/plain")
            for field, value, kind in schema.mutations(body_schema):
                response = await client.request(method, path, json=value, headers=passing)
                shown = f"{where} {field} ({kind})"
                assert_problem(response, shown)
                top = field.split(".", 1)[0] if field else ""
                if response.status_code == 422 and top and top not in ("k", "0"):
                    assert field_named(response, top), f"{shown}: {response.text[:300]}"
                assert MARKER not in response.text, f"{shown} echoed the value"
        for method, template, operation in all_operations(document):
            path = concrete(template, operation)
            for name, value in query_mutations(schema, operation):
                for headers in headers_by_role:
                    response = await client.request(method, path, params={name: value}, headers=headers)
                    shown = f"{service} {method} {template}?{name}"
                    assert response.status_code < 500, f"{shown}: {response.status_code} {response.text[:300]}"
                    if response.status_code >= 400:
                        assert_problem(response, shown)
                    if response.status_code not in (401, 403):
                        queried.append(shown)
                    assert MARKER not in response.text, f"{shown} echoed the value"
        after = await row_counts(dsn)
    changed = {t: (before[t], after.get(t)) for t in before if before[t] != after.get(t)}
    assert not changed, f"{service}: hostile input wrote rows: {changed}"
    # what the service logged (the test's own HTTP client logs each URL it requests: not the service's log)
    records = [caplog.handler.format(r) for r in caplog.records if not r.name.startswith("httpx")]
    lines = [line for line in "".join(capfd.readouterr()).splitlines() if '"logger": "httpx"' not in line]
    logged = "\n".join(records + lines)
    assert MARKER not in logged, f"{service}: a hostile value reached the log"
    writes = validated + refused_by_auth
    assert validated or not writes, f"{service}: no write route was reached past authorisation"
    assert validated or queried, f"{service}: no route was reached past authorisation"
    assert not refused_by_auth, f"{service}: no test role passes authorisation of {refused_by_auth}: add it to roles()"
