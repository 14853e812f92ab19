"""``GET /v1/audit/entries``: the audit trail read back, newest first, by auditors and administrators only.

Against a real PostgreSQL database with the chassis's audit table and a service app built by
``create_service_app`` (the route every service with ``audit_trail = True`` gets): keyset pages by the row's id
over every chain, filtered by entity and entity id; only this service's chains; the recorded data as a summary
with secrets and IIN-like numbers masked; everyone else is refused with a 403 problem+json.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qosym_chassis.api import create_service_app
from qosym_chassis.audit import Actor, AuditTrail, audit_log, create_audit_table
from qosym_chassis.audit_routes import summarise
from qosym_chassis.settings import ServiceSettings

ADMIN = Actor("admin-1", "administrator")


@pytest.fixture
async def app(engine: AsyncEngine, stack_servers, jwks_url, tmp_path) -> AsyncIterator[FastAPI]:
    async with engine.begin() as conn:
        await conn.run_sync(create_audit_table)
    settings = ServiceSettings(
        service_name="chassis-test",
        database_url=str(engine.url.render_as_string(hide_password=False)),
        kafka_bootstrap_servers=stack_servers.state.kafka_bootstrap_servers,
        redis_url=stack_servers.state.redis_url,
        jwks_url=jwks_url,
        audit_trail=True,
        keys_dir=tmp_path / "keys",
        audit_head_dir=tmp_path / "heads",
    )
    made = create_service_app(settings, title="test", description="test", routers=[])
    async with LifespanManager(made, startup_timeout=120, shutdown_timeout=60):
        yield made


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def trail_of(app: FastAPI) -> AuditTrail:
    trail = app.state.context.audit
    assert isinstance(trail, AuditTrail)
    return trail


async def record(engine: AsyncEngine, trail: AuditTrail, entity: str, entity_id: str, data: dict[str, Any]) -> None:
    async with AsyncSession(engine) as session, session.begin():
        await trail.append(session, ADMIN, f"{entity}.changed", entity, entity_id, data)


def bearer(token: Any, role: str, scope: dict[str, str] | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, scope=scope)}"}


@pytest.mark.unit
def test_the_summary_names_each_value_and_masks_secrets_and_iins() -> None:
    summary = summarise(
        {
            "role": "operator",
            "scope": {"region": "astana", "district": "yesil"},
            "flags": ["declared_sex_mismatch"],
            "password_hash": "$argon2id$v=19$...",
            "totp_secret": "JBSWY3DPEHPK3PXP",
            "reason": "the parent's IIN 900101300123 was checked",
            "iin": "900101300123",
            "total_tiyn": 1200000,
            "valid_until": None,
        }
    )
    assert summary == (
        "flags=[declared_sex_mismatch]; iin=[hidden]; password_hash=[hidden];"
        " reason=the parent's IIN ********0123 was checked; role=operator; scope.district=yesil;"
        " scope.region=astana; total_tiyn=1200000; totp_secret=[hidden]; valid_until=null"
    )
    nested = summarise({"contacts": [{"kind": "sms", "phone": "+77010000000"}, "900101300123"]})
    assert nested == "contacts=[{kind=sms; phone=[hidden]}, ********0123]"
    assert summarise({"role": "administrator", "scope": {}}) == "role=administrator; scope={}"
    assert summarise({}) == ""
    assert len(summarise({"note": "x" * 5000})) <= 1000


@pytest.mark.component
async def test_entries_are_newest_first_in_keyset_pages_over_every_chain(app, client, engine, token) -> None:
    trail = trail_of(app)
    for n in range(5):
        await record(engine, trail, "thing", f"t-{n}", {"n": n})
    admin = bearer(token, "administrator")
    first = await client.get("/v1/audit/entries", params={"limit": 2}, headers=admin)
    assert first.status_code == 200, first.text
    body = first.json()
    assert [e["entity_id"] for e in body["items"]] == ["t-4", "t-3"]
    entry = body["items"][0]
    assert set(entry) == {"id", "chain", "seq", "at", "actor", "acting_for", "action", "entity", "entity_id", "summary"}
    assert (entry["actor"], entry["action"], entry["entity"], entry["summary"]) == (
        "administrator:admin-1",
        "thing.changed",
        "thing",
        "n=4",
    )
    assert entry["chain"] == trail.chain_of("thing", "t-4") and entry["seq"] >= 1
    second = await client.get(
        "/v1/audit/entries", params={"limit": 2, "before_id": body["next_before_id"]}, headers=admin
    )
    third = await client.get(
        "/v1/audit/entries", params={"limit": 2, "before_id": second.json()["next_before_id"]}, headers=admin
    )
    assert [e["entity_id"] for e in second.json()["items"]] == ["t-2", "t-1"]
    assert [e["entity_id"] for e in third.json()["items"]] == ["t-0"]
    assert third.json()["next_before_id"] is None


@pytest.mark.component
async def test_entries_are_filtered_by_entity_and_id_and_only_this_services_chains(app, client, engine, token) -> None:
    trail = trail_of(app)
    await record(engine, trail, "staff", "s-1", {"role": "operator", "scope": {"region": "astana"}})
    await record(engine, trail, "staff", "s-2", {"role": "auditor", "scope": {}})
    await record(engine, trail, "child", "s-1", {"code": "large_family"})
    other = AuditTrail("chassis-test-other", keys_dir=trail.keys_dir, head_dir=trail.head_dir)
    await record(engine, other, "staff", "s-1", {"role": "administrator"})
    admin = bearer(token, "auditor")
    staff = await client.get("/v1/audit/entries", params={"entity": "staff"}, headers=admin)
    assert [(e["entity"], e["entity_id"]) for e in staff.json()["items"]] == [("staff", "s-2"), ("staff", "s-1")]
    one = await client.get("/v1/audit/entries", params={"entity": "staff", "entity_id": "s-1"}, headers=admin)
    assert [e["summary"] for e in one.json()["items"]] == ["role=operator; scope.region=astana"]
    everything = await client.get("/v1/audit/entries", headers=admin)
    assert len(everything.json()["items"]) == 3  # never another service's chain (chassis-test-other)
    async with engine.connect() as conn:
        assert len((await conn.execute(audit_log.select())).all()) == 4


@pytest.mark.component
@pytest.mark.parametrize(
    ("role", "scope"),
    [("parent", None), ("operator", {"region": "astana"}), ("provider_staff", {"provider": "p-1"}), ("ops", None)],
)
async def test_everyone_but_auditors_and_administrators_is_refused(client, token, role, scope) -> None:
    refused = await client.get("/v1/audit/entries", headers=bearer(token, role, scope))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/audit/entries")).status_code == 401


@pytest.mark.component
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"before_id": 2**63}, "before_id"),
        ({"entity": "a\x00"}, "entity"),
    ],
)
async def test_out_of_range_paging_and_control_characters_are_refused_naming_the_field(
    client, token, params, field
) -> None:
    refused = await client.get("/v1/audit/entries", params=params, headers=bearer(token, "administrator"))
    assert refused.status_code == 422
    assert field in refused.text
