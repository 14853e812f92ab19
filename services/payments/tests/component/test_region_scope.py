"""An operator token that names no region, or any token whose scope is not an object, gets nothing from payments
(403), whichever route it tries; an administrator (unscoped by design) still reads."""

from __future__ import annotations

from uuid import uuid4

import pytest

pytestmark = pytest.mark.component
ROUTES = [
    ("GET", "/v1/regions/astana/budget", None),
    ("GET", "/v1/batches", None),
    ("GET", f"/v1/providers/{uuid4()}/accruals", None),
    ("GET", "/v1/reconciliation", None),
    ("POST", "/v1/batches", {"region_code": "astana", "period": "2026-11"}),
]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("operator", None),
        ("operator", {}),
        ("operator", ["region", "astana"]),
        ("administrator", ["region", "astana"]),
        ("administrator", "everywhere"),
        ("auditor", {"region": ["astana"]}),
    ],
    ids=repr,
)
async def test_a_token_without_a_usable_scope_gets_403(service_db, api_client, token, role, scope) -> None:
    url = await service_db("payments")
    headers = bearer(token(role, scope=scope))
    async with api_client("payments", url) as client:
        for method, path, body in ROUTES:
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
        control = await client.get("/v1/batches", headers=bearer(token("administrator")))
    assert control.status_code == 200, control.text
