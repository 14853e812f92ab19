"""Scope fails closed: an operator token that names no region, or any token whose scope is not an object of
strings, is refused (403) before any route runs, in every service (they all verify tokens through the chassis)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter

from qosym_chassis.api import create_service_app
from qosym_chassis.auth import CurrentPrincipal, parse_scope, scope_problem
from qosym_chassis.settings import ServiceSettings

router = APIRouter()


@router.get("/v1/whoami")
async def whoami(principal: CurrentPrincipal) -> dict[str, object]:
    return {"role": principal.role, "scope": principal.scope}


@pytest.fixture
async def client(engine, stack_servers, jwks_url) -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(
        service_name="chassis-test",
        database_url=str(engine.url.render_as_string(hide_password=False)),
        kafka_bootstrap_servers=stack_servers.state.kafka_bootstrap_servers,
        redis_url=stack_servers.state.redis_url,
        jwks_url=jwks_url,
    )
    app = create_service_app(settings, title="test", description="test", routers=[router])
    async with (
        LifespanManager(app, startup_timeout=120, shutdown_timeout=60),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://test"
        ) as http,
    ):
        yield http


@pytest.mark.unit
@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (None, {}),
        ({}, {}),
        ({"region": "astana"}, {"region": "astana"}),
        (["region", "astana"], None),
        ("region=astana", None),
        ({"region": ["astana"]}, None),
        ({"region": ""}, None),
        ({"region": 7}, None),
    ],
)
def test_a_scope_claim_is_an_object_of_strings_or_malformed(raw, parsed):
    assert parse_scope(raw) == parsed


@pytest.mark.unit
def test_only_an_operator_must_name_a_region():
    assert scope_problem("operator", {}) is not None
    assert scope_problem("operator", {"district": "yesil"}) is not None
    assert scope_problem("operator", {"region": "astana"}) is None
    assert scope_problem("administrator", {}) is None
    assert scope_problem("parent", None) is not None


@pytest.mark.component
@pytest.mark.parametrize(
    "scope",
    [None, {}, {"district": "yesil"}, {"region": ""}, ["region", "astana"], "region=astana", {"region": ["astana"]}],
    ids=["no-scope", "empty", "district-only", "empty-region", "list", "string", "list-value"],
)
async def test_an_operator_token_without_a_region_gets_nothing(client, token, scope):
    response = await client.get("/v1/whoami", headers={"Authorization": f"Bearer {token('operator', scope=scope)}"})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.component
async def test_scoped_operators_and_unscoped_administrators_pass(client, token):
    operator = await client.get(
        "/v1/whoami", headers={"Authorization": f"Bearer {token('operator', scope={'region': 'astana'})}"}
    )
    admin = await client.get("/v1/whoami", headers={"Authorization": f"Bearer {token('administrator')}"})
    malformed_admin = await client.get(
        "/v1/whoami", headers={"Authorization": f"Bearer {token('administrator', scope=['all'])}"}
    )
    assert operator.status_code == 200 and operator.json()["scope"] == {"region": "astana"}
    assert admin.status_code == 200 and admin.json()["scope"] == {}
    assert malformed_admin.status_code == 403
