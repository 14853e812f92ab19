"""No service keeps a token or one-time secret in its idempotency table: every POST that answers with one is marked.

Generated from each service's OpenAPI document, so a new route that hands out a secret fails here until it is
marked ``openapi_extra=NOT_STORED`` (see shared/chassis ``idempotency``).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from qosym_chassis.idempotency import MARKER, NOT_STORED, IdempotencyMiddleware
from qosym_chassis.settings import ServiceSettings
from qosym_cli.paths import SERVICES

pytestmark = pytest.mark.unit
SECRET_FIELDS = {
    "access_token",
    "refresh_token",
    "one_time_password",
    "totp_secret",
    "totp_uri",
    "client_secret",
    "ticket",
    "token",
    "password",
    "secret",
}


def app_of(service: str, home: Path) -> Any:
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
    return importlib.import_module(f"{service}.entrypoints.api").create_app(settings_class(**values))


def openapi_of(service: str, home: Path) -> dict[str, Any]:
    document: dict[str, Any] = app_of(service, home).openapi()
    return document


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_runs_the_chassis_idempotency_middleware(service: str, tmp_path: Path) -> None:
    middleware = [m.cls for m in app_of(service, tmp_path).user_middleware]
    assert middleware.count(IdempotencyMiddleware) == 1


def answered_fields(document: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    schemas = document.get("components", {}).get("schemas", {})

    def fields(schema: dict[str, Any]) -> set[str]:
        if "$ref" in schema:
            return fields(schemas[schema["$ref"].rsplit("/", 1)[1]])
        found = set(schema.get("properties", {}))
        for part in schema.get("anyOf", []) + schema.get("allOf", []) + schema.get("oneOf", []):
            found |= fields(part)
        return found

    answered: set[str] = set()
    for code, response in operation.get("responses", {}).items():
        if code.startswith("2"):
            for media in response.get("content", {}).values():
                answered |= fields(media.get("schema", {}))
    return answered


@pytest.mark.parametrize("service", SERVICES)
def test_every_post_that_answers_with_a_secret_is_never_stored(service: str, tmp_path: Path) -> None:
    document = openapi_of(service, tmp_path)
    unmarked = [
        path
        for path, operations in document["paths"].items()
        if "post" in operations
        and answered_fields(document, operations["post"]) & SECRET_FIELDS
        and operations["post"].get(MARKER) != NOT_STORED[MARKER]
    ]
    assert unmarked == [], f"mark these routes openapi_extra=NOT_STORED: {unmarked}"


def test_the_known_secret_routes_are_marked(tmp_path: Path) -> None:
    marked = {
        (service, path)
        for service in ("registry", "notifications")
        for path, operations in openapi_of(service, tmp_path).get("paths", {}).items()
        if operations.get("post", {}).get(MARKER) == NOT_STORED[MARKER]
    }
    assert {
        ("registry", "/v1/auth/otp/verify"),
        ("registry", "/v1/auth/staff/login"),
        ("registry", "/v1/auth/refresh"),
        ("registry", "/v1/auth/token"),
        ("registry", "/v1/staff"),
        ("registry", "/v1/service-accounts"),
        ("registry", "/v1/dev/tokens"),
        ("notifications", "/v1/inbox/stream-tickets"),
    } <= marked
