"""Maker–checker on the payments audit trail: preparation, a refused self-approval, approval and cancellation are
keyed rows; a rewritten approval and a deleted tail are caught; the service's role may not rewrite the trail."""

from __future__ import annotations

from uuid import uuid4

import asyncpg
import pytest

from .support import bearer
from .test_batches_api import month_of_two_providers

# staff accounts by id: payments records makers and checkers by their staff account id, never a name
ADMIN_AIGERIM, ADMIN_BOLAT, ADMIN_DANA = (str(uuid4()) for _ in range(3))

pytestmark = pytest.mark.component


async def trail(url: str) -> list[tuple[str, str, str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT actor, action, entity_id FROM audit_log ORDER BY id")
    finally:
        await conn.close()
    return [(r["actor"], r["action"], r["entity_id"]) for r in rows]


async def test_batch_preparation_and_approvals_go_on_the_trail_and_rewrites_are_caught(
    service_db, consumer, api_client, token, superuser_url
) -> None:
    url, *_ = await month_of_two_providers(service_db, consumer)
    maker, checker = bearer(token("administrator", ADMIN_AIGERIM)), bearer(token("administrator", ADMIN_BOLAT))
    auditor = bearer(token("auditor"))
    async with api_client("payments", url) as client:
        batch = await client.post("/v1/batches", json={"region_code": "astana", "period": "2026-11"}, headers=maker)
        batch_id = batch.json()["batch_id"]
        own = await client.post(f"/v1/batches/{batch_id}/approve", headers=maker)
        approved = await client.post(f"/v1/batches/{batch_id}/approve", headers=checker)
        head = await client.post("/v1/audit/heads", headers=auditor)
        intact = (await client.get("/v1/audit/verify", headers=auditor)).json()
        recorded = await trail(url)
        conn = await asyncpg.connect(url)  # the service's own role
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("UPDATE audit_log SET actor = 'administrator:admin-aigerim' WHERE seq = 3")
        finally:
            await conn.close()
        attacker = await asyncpg.connect(superuser_url(url))
        try:
            await attacker.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            await attacker.execute("UPDATE audit_log SET actor = 'administrator:admin-aigerim' WHERE seq = 3")
            edited = (await client.get("/v1/audit/verify", headers=auditor)).json()
            await attacker.execute("DELETE FROM audit_log WHERE seq = 3")
            await attacker.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
        finally:
            await attacker.close()
        tail_gone = (await client.get("/v1/audit/verify", headers=auditor)).json()
    assert own.status_code == 403 and approved.status_code == 200 and head.status_code == 201
    assert recorded == [
        (f"administrator:{ADMIN_AIGERIM}", "batch.prepared", batch_id),
        (f"administrator:{ADMIN_AIGERIM}", "batch.approval_refused", batch_id),
        (f"administrator:{ADMIN_BOLAT}", "batch.approved", batch_id),
    ]
    assert intact["ok"] is True and intact["rows"] == 3 and intact["heads_checked"] == 1
    assert edited["ok"] is False and edited["first_broken_seq"] == 3 and "mac" in edited["reason"]
    assert tail_gone["ok"] is False and "rows were removed" in tail_gone["reason"]


async def test_a_cancelled_batch_names_who_cancelled_it(service_db, consumer, api_client, token) -> None:
    url, *_ = await month_of_two_providers(service_db, consumer)
    maker = bearer(token("administrator", ADMIN_AIGERIM))
    async with api_client("payments", url) as client:
        batch = await client.post("/v1/batches", json={"region_code": "astana", "period": "2026-11"}, headers=maker)
        cancelled = await client.post(
            f"/v1/batches/{batch.json()['batch_id']}/cancel", headers=bearer(token("administrator", ADMIN_DANA))
        )
    assert cancelled.status_code == 200
    assert (await trail(url))[-1][:2] == (f"administrator:{ADMIN_DANA}", "batch.cancelled")
