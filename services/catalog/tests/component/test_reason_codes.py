"""Issue 13, finding 6: an operator's words about a provider stay in catalog; ProviderSuspended carries a code."""

import json

import pytest

from .support import auth, fetch, programme, verified_provider

pytestmark = pytest.mark.component


async def test_a_suspension_publishes_a_reason_code_and_keeps_the_note(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        await programme(client, provider_id, staff)
        operator = auth(token("operator", scope={"region": "astana"}))
        path = f"/v1/providers/{provider_id}/decision"
        refused = [
            await client.post(path, json=body, headers=operator)
            for body in (
                {"action": "suspend", "reason_code": "the director, Bolat Serikov, was convicted"},
                {"action": "suspend", "reason_code": "fraud_suspected", "reason": "a\u0000b"},
                {"action": "suspend", "reason_code": "fraud_suspected", "reason": "x" * 501},
            )
        ]
        note = "inspection of 1 December: children marked present on a closure day"
        suspended = await client.post(
            path, json={"action": "suspend", "reason_code": "fraud_suspected", "reason": note}, headers=operator
        )
        shown = await client.get(f"/v1/providers/{provider_id}", headers=operator)
    assert [r.status_code for r in refused] == [422, 422, 422], [r.text for r in refused]
    assert all(r.headers["content-type"].startswith("application/problem+json") for r in refused)
    assert suspended.status_code == 200, suspended.text
    assert shown.json()["status_reason"] == note  # the note stays in catalog, for its API
    rows = await fetch(url, "SELECT payload FROM outbox WHERE event_type = 'catalog.ProviderSuspended'")
    [payload] = [json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"] for r in rows]
    assert payload["reason"] == "fraud_suspected"
    assert "inspection" not in json.dumps(payload)
