"""An operator token that names no region (or whose scope is not an object) gets nothing from notifications: no
inbox, no stream ticket, no stream (403). An operator of a region reads their own and their region's operators'
messages."""

from __future__ import annotations

from uuid import uuid4

import pytest

pytestmark = pytest.mark.component


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("scope", [None, {}, {"district": "yesil"}, ["region", "astana"], "region=astana"], ids=repr)
async def test_an_operator_token_without_a_region_gets_403(service_db, api_client, token, scope) -> None:
    url = await service_db("notifications")
    headers = bearer(token("operator", subject=str(uuid4()), scope=scope))
    async with api_client("notifications", url) as client:
        answers = [
            await client.get("/v1/inbox", headers=headers),
            await client.post(f"/v1/inbox/{uuid4()}/read", headers=headers),
            await client.post("/v1/inbox/stream-tickets", headers=headers),
            await client.get("/v1/inbox/stream", headers=headers),
        ]
        control = await client.get("/v1/inbox", headers=bearer(token("operator", str(uuid4()), {"region": "astana"})))
    assert [a.status_code for a in answers] == [403, 403, 403, 403]
    assert control.status_code == 200
