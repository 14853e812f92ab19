"""Schemathesis over every service's API, in-process, against a fresh migrated database per service.

Every operation of each OpenAPI document gets generated valid and invalid requests (derandomized, so a
run is repeatable), as an administrator and as a parent. Checks: no 5xx, every status and content type
the operation answers is documented, and every response body matches its documented schema (errors are
problem+json). Response-derived ids (links, stateful testing) are off: ids are random, so writes land
on the service's own fresh database and never on shared data. The live event stream is left out (an
open stream, not a request and answer).
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import service_settings
from qosym_cli.paths import SERVICES

pytestmark = pytest.mark.component

MAX_EXAMPLES = 8
SKIPPED_PATHS = {"/v1/inbox/stream"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def exercise(strategy: Any, headers: dict[str, str]) -> None:
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=strategy)
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def run_schemathesis(app: Any, headers_by_role: list[dict[str, str]]) -> list[str]:
    """Synchronous: schemathesis serves the app on its own event loop thread, lifespan included."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIPPED_PATHS:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for role, headers in enumerate(headers_by_role):
                try:
                    exercise(operation.as_strategy(generation_mode=mode), headers)
                except hypothesis.errors.Unsatisfiable:
                    continue  # nothing of this operation can be made invalid (no parameters, free path text)
                except Exception as exc:
                    label = f"{operation.method.upper()} {operation.path} ({mode.value}, role {role})"
                    failures.append(f"{label}: {exc}"[:3000])
    return failures


@pytest.mark.parametrize("service", SERVICES)
async def test_schemathesis_finds_no_server_errors_and_every_answer_is_documented(
    service, service_db, stack_servers, jwks_url, token
) -> None:
    url = await service_db(service)
    settings = service_settings(service, stack_servers, url, jwks_url)
    app = importlib.import_module(f"{service}.entrypoints.api").create_app(settings)
    roles = [{"Authorization": f"Bearer {token('administrator')}"}, {"Authorization": f"Bearer {token('parent')}"}]
    try:
        failures = await asyncio.to_thread(run_schemathesis, app, roles)
    finally:
        await asyncio.to_thread(asgi.shutdown_lifespans)
    assert not failures, "\n\n".join(failures)
