"""The OpenAPI document of every service is one frontends can trust (docs/architecture.md, "Service anatomy").

Generated from each service's document, so a new route breaking a convention fails here:
- every operation documents its errors as problem+json (the shared Problem schema), and no 422 advertises FastAPI's
  ``HTTPValidationError`` (``{detail: [...]}``), which the API never answers;
- operation ids are readable (the route function's name) and unique, never FastAPI's ``name_v1_path_get``;
- a GET that answers a collection answers the chassis page (``qosym_chassis.inputs.OffsetPage``), never a bare array;
- a JSON request body of a POST, PUT or PATCH carries an example;
- a 2xx answer with a body has a schema.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from qosym_chassis.errors import PROBLEM_JSON
from qosym_chassis.settings import ServiceSettings
from qosym_cli.paths import SERVICES

pytestmark = pytest.mark.unit
METHODS = ("get", "post", "put", "patch", "delete")
GENERATED_ID = re.compile(r"_v\d+(_.*)?_(get|post|put|patch|delete)$")


def openapi_of(service: str, home: Path) -> dict[str, Any]:
    """The service's document as its api process serves it (the same settings as tests/test_never_stored.py)."""
    module = importlib.import_module(f"{service}.config")
    settings_class = next(
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, ServiceSettings) and value is not ServiceSettings
    )
    values: dict[str, Any] = {"database_url": "postgresql://nobody@127.0.0.1:1/none", "dev_mode": True}
    for name in ("keys_dir", "evidence_dir"):
        if name in settings_class.model_fields:
            values[name] = home / name
    app = importlib.import_module(f"{service}.entrypoints.api").create_app(settings_class(**values))
    document: dict[str, Any] = app.openapi()
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in sorted(document.get("paths", {}).items())
        for method, operation in item.items()
        if method in METHODS and isinstance(operation, dict)
    ]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _mentions(node: Any, name: str) -> bool:
    if isinstance(node, dict):
        return any(
            (key == "$ref" and isinstance(value, str) and value.endswith("/" + name)) or _mentions(value, name)
            for key, value in node.items()
        )
    if isinstance(node, list):
        return any(_mentions(value, name) for value in node)
    return False


def _is_array(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = resolve(document, schema)
    if schema.get("type") == "array":
        return True
    variants = [resolve(document, s) for s in schema.get("anyOf", []) + schema.get("oneOf", [])]
    return any(v.get("type") == "array" for v in variants)


def _has_example(document: dict[str, Any], media: dict[str, Any]) -> bool:
    if media.get("example") is not None or media.get("examples"):
        return True
    schema = resolve(document, media.get("schema", {}))
    if schema.get("example") is not None or schema.get("examples"):
        return True
    # an optional body is anyOf [the model, null]: the model's own example counts
    variants = [resolve(document, s) for s in schema.get("anyOf", []) + schema.get("oneOf", [])]
    return any(v.get("example") is not None or v.get("examples") for v in variants if v.get("type") != "null")


def violations(document: dict[str, Any]) -> list[str]:
    """Every broken convention of one document, as ``METHOD /path: what``."""
    found: list[str] = []
    ids: dict[str, str] = {}
    for method, path, operation in operations(document):
        where = f"{method.upper()} {path}"
        responses: dict[str, Any] = operation.get("responses", {})
        errors = {code: r for code, r in responses.items() if code[:1] in ("4", "5")}
        if not errors:
            found.append(f"{where}: no documented error response")
        for code, response in errors.items():
            content = response.get("content", {})
            if PROBLEM_JSON not in content or not _mentions(content[PROBLEM_JSON], "Problem"):
                found.append(f"{where}: {code} is not documented as problem+json")
            if _mentions(content, "HTTPValidationError"):
                found.append(f"{where}: {code} advertises HTTPValidationError")
        operation_id = operation.get("operationId", "")
        if not operation_id or GENERATED_ID.search(operation_id):
            found.append(f"{where}: generated operation id {operation_id!r}")
        elif operation_id in ids:
            found.append(f"{where}: operation id {operation_id!r} is also {ids[operation_id]}'s")
        else:
            ids[operation_id] = where
        for code, response in responses.items():
            if not code.startswith("2"):
                continue
            content = response.get("content", {})
            for media_type, media in content.items():
                if not media.get("schema"):
                    found.append(f"{where}: {code} {media_type} has no schema")
            json_body = content.get("application/json", {})
            if method == "get" and json_body.get("schema") and _is_array(document, json_body["schema"]):
                found.append(f"{where}: an unpaged collection (a top-level array, not the chassis page)")
        if method in ("post", "put", "patch"):
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and not _has_example(document, body):
                found.append(f"{where}: the JSON request body has no example")
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_follows_the_openapi_conventions(service: str, tmp_path: Path) -> None:
    broken = violations(openapi_of(service, tmp_path))
    assert not broken, f"{service}: {len(broken)} broken conventions:\n" + "\n".join(broken)


# the checker itself, on small documents


def _document(operation: dict[str, Any], schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"paths": {"/v1/things": {"get": operation}}, "components": {"schemas": schemas or {}}}


PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
PAGED = {
    "ThingPage": {
        "type": "object",
        "properties": {"items": {"type": "array"}, "total": {}, "limit": {}, "offset": {}},
    }
}


def test_a_conforming_operation_passes() -> None:
    operation = {
        "operationId": "list_things",
        "responses": {
            "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingPage"}}}},
            "404": {"content": PROBLEM},
        },
    }
    assert violations(_document(operation, PAGED)) == []


def test_each_broken_convention_is_reported() -> None:
    operation = {
        "operationId": "list_things_v1_things_get",
        "responses": {
            "200": {"content": {"application/json": {"schema": {"type": "array", "items": {}}}}},
            "422": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}},
        },
    }
    broken = violations(_document(operation))
    assert broken == [
        "GET /v1/things: 422 is not documented as problem+json",
        "GET /v1/things: 422 advertises HTTPValidationError",
        "GET /v1/things: generated operation id 'list_things_v1_things_get'",
        "GET /v1/things: an unpaged collection (a top-level array, not the chassis page)",
    ]


def test_a_body_without_example_and_an_operation_without_errors_are_reported() -> None:
    document = {
        "paths": {
            "/v1/things": {
                "post": {
                    "operationId": "create_thing",
                    "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {"201": {"content": {"application/json": {}}}},
                }
            }
        },
        "components": {"schemas": {}},
    }
    assert violations(document) == [
        "POST /v1/things: no documented error response",
        "POST /v1/things: 201 application/json has no schema",
        "POST /v1/things: the JSON request body has no example",
    ]
