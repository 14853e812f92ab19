"""An operator token that names no region (or whose scope is not an object) gets nothing from the registry: 403 on
every operator route, and nothing is written."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.component


async def counts(url: str) -> tuple[int, ...]:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    async with engine.connect() as conn:
        found = [
            (await conn.execute(text(f"select count(*) from {t}"))).scalar_one()
            for t in ("child", "assisted_change", "category_claim", "outbox")
        ]
    await engine.dispose()
    return tuple(found)


@pytest.mark.parametrize("scope", [None, {}, {"district": "yesil"}, ["region", "astana"], "region=astana"], ids=repr)
async def test_an_operator_token_without_a_region_gets_403(service_db, api_client, token, scope):
    url = await service_db("registry")
    headers = {"Authorization": f"Bearer {token('operator', scope=scope)}"}
    claim, change = uuid.uuid4(), uuid.uuid4()
    probes = [
        ("GET", "/v1/review/categories", None),
        ("GET", "/v1/review/flags", None),
        ("POST", f"/v1/categories/{claim}/verify", {}),
        ("POST", f"/v1/categories/{claim}/check", None),
        (
            "POST",
            "/v1/assisted/children",
            {"parent_iin": "900101300017", "iin": "180905600123", "region_code": "astana", "district_code": "yesil"},
        ),
        ("POST", f"/v1/assisted/{change}/confirm", {"code": "123456"}),
    ]
    async with api_client("registry", url) as client:
        before = await counts(url)
        for method, path, body in probes:
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path, response.text)
    assert await counts(url) == before


async def test_development_tokens_of_operators_name_their_region(service_db, api_client):
    url = await service_db("registry")
    async with api_client("registry", url, dev_mode=True) as client:
        regionless = await client.post("/v1/dev/tokens", json={"role": "operator"})
        scoped = await client.post("/v1/dev/tokens", json={"role": "operator", "scope": {"region": "astana"}})
        review = await client.get(
            "/v1/review/categories", headers={"Authorization": f"Bearer {scoped.json()['access_token']}"}
        )
    assert regionless.status_code == 422 and regionless.json()["errors"][0]["field"] == "scope.region"
    assert scoped.status_code == 201 and review.status_code == 200
