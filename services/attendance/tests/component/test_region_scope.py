"""An operator token that names no region (or whose scope is not an object) gets nothing from attendance: 403 on
every route an operator uses, and nothing is written."""

from __future__ import annotations

from uuid import uuid4

import pytest

from .support import OCTOBER, api_at, auth, local, outbox, world

pytestmark = pytest.mark.component


@pytest.mark.parametrize("scope", [None, {}, {"district": "yesil"}, ["region", "astana"], "region=astana"], ids=repr)
async def test_an_operator_token_without_a_region_gets_403(service_db, consumer, api_client, token, scope) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    unscoped = auth(token("operator", scope=scope))
    probes = [
        ("GET", "/v1/timesheets", None),
        ("GET", "/v1/timesheets/payable", None),
        ("GET", "/v1/timesheets/payable?region_code=astana", None),
        ("GET", "/v1/disputes", None),
        ("GET", "/v1/risk-flags", None),
        ("GET", f"/v1/risk-flags/{uuid4()}", None),
        ("GET", f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}", None),
        ("POST", f"/v1/disputes/{uuid4()}/resolve", {"outcome": "upheld", "note": "x"}),
    ]
    before = await outbox(w.url, "attendance.DisputeResolved")
    async with api_at(api_client, w.url, local(2026, 11, 2, 10)) as client:
        for method, path, body in probes:
            response = await client.request(method, path, json=body, headers=unscoped)
            assert response.status_code == 403, (method, path, response.text)
    assert await outbox(w.url, "attendance.DisputeResolved") == before
