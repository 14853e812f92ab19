"""Operators read only their region (and district): the allocation probes of issue 13, finding 1, as an Astana
operator against Almaty children and applications, answer like a missing object (or 403 for a listing of another
region) and change nothing; an operator token without a region gets nothing; auditors read everywhere but never
write; the Almaty operator (the positive control) still reads."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from qosym_chassis.consumer import IncomingMessage
from qosym_contracts.registry import ChildRegisteredV1

pytestmark = pytest.mark.component
REGIONS = Path(__file__).resolve().parents[4] / "deploy" / "regions"
TABLES = ("region", "round", "application", "allocation_result", "voucher", "child", "outbox")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def snapshot(url: str) -> dict[str, list[str]]:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    async with engine.connect() as conn:
        rows = {t: sorted(map(str, (await conn.execute(text(f"SELECT * FROM {t}"))).all())) for t in TABLES}
    await engine.dispose()
    return rows


@pytest.fixture
async def almaty(service_db, api_client, consumer, token):
    """An Almaty round (allocated) with one Almaty child's application and voucher."""
    url = await service_db("allocation")
    allocation = await consumer("allocation", url)
    admin = bearer(token("administrator"))
    async with api_client("allocation", url) as client:
        document = yaml.safe_load((REGIONS / "almaty.yaml").read_text())
        assert (await client.put("/v1/regions/almaty", json=document, headers=admin)).status_code == 201
        guardian = uuid.uuid4()
        child = ChildRegisteredV1(
            child_id=uuid.uuid4(),
            guardian_id=guardian,
            birth_date=date(2016, 5, 14),
            sex="F",
            region_code="almaty",
            district_code="medeu",
        )
        await allocation.deliver(IncomingMessage(child.topic, child.model_dump_json().encode()))
        now = datetime.now(UTC)
        created = await client.post(
            "/v1/rounds",
            json={
                "region_code": "almaty",
                "name": "Autumn 2026",
                "budget_tiyn": 100 * 1_500_000 * 9,
                "quotas": {"medeu": {"sports": 2}},
                "application_opens_at": (now - timedelta(hours=1)).isoformat(),
                "application_closes_at": (now + timedelta(days=7)).isoformat(),
                "reference_date": "2026-09-01",
                "voucher_valid_until": "2027-06-30",
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        round_id = created.json()["round_id"]
        await client.post(f"/v1/rounds/{round_id}/open", headers=admin)
        applied = await client.post(
            f"/v1/rounds/{round_id}/applications",
            json={"child_id": str(child.child_id), "direction": "sports"},
            headers=bearer(token("parent", str(guardian))),
        )
        assert applied.status_code == 201, applied.text
        await client.post(f"/v1/rounds/{round_id}/close", headers=admin, json={"reason": "schedule_change"})
        await client.post(f"/v1/rounds/{round_id}/allocate", headers=admin)
        yield url, client, {"child": str(child.child_id), "application": applied.json()["application_id"]}


def reads(w: dict[str, Any]) -> list[tuple[str, dict[str, str] | None]]:
    return [
        (f"/v1/children/{w['child']}", None),
        (f"/v1/children/{w['child']}/vouchers", None),
        (f"/v1/applications/{w['application']}", None),
    ]


async def test_an_operator_of_another_region_reads_nothing(almaty, token) -> None:
    url, client, w = almaty
    astana = bearer(token("operator", scope={"region": "astana"}))
    before = await snapshot(url)
    listing = await client.get("/v1/children", params={"region_code": "almaty"}, headers=astana)
    own_listing = await client.get("/v1/children", headers=astana)
    answers = {path: (await client.get(path, params=params, headers=astana)).status_code for path, params in reads(w)}
    assert listing.status_code == 403 and listing.headers["content-type"] == "application/problem+json"
    assert own_listing.status_code == 200 and own_listing.json()["total"] == 0  # only Astana's children
    assert answers == {path: 404 for path, _ in reads(w)}
    assert await snapshot(url) == before


async def test_an_operator_of_another_district_reads_nothing_either(almaty, token) -> None:
    _url, client, w = almaty
    bostandyq = bearer(token("operator", scope={"region": "almaty", "district": "bostandyq"}))
    listing = await client.get("/v1/children", params={"region_code": "almaty"}, headers=bostandyq)
    assert listing.status_code == 200 and listing.json()["total"] == 0
    assert {p: (await client.get(p, headers=bostandyq)).status_code for p, _ in reads(w)} == {
        p: 404 for p, _ in reads(w)
    }


@pytest.mark.parametrize("scope", [None, {}, {"district": "medeu"}, ["region", "almaty"], "region=almaty"], ids=repr)
async def test_an_operator_token_without_a_region_gets_403(almaty, token, scope) -> None:
    url, client, w = almaty
    unscoped = bearer(token("operator", scope=scope))
    before = await snapshot(url)
    for path, _ in [("/v1/children", None), *reads(w)]:
        response = await client.get(path, headers=unscoped)
        assert response.status_code == 403, (path, response.text)
    assert await snapshot(url) == before


async def test_the_regions_operator_and_auditors_read_and_auditors_never_write(almaty, token) -> None:
    url, client, w = almaty
    for scope in ({"region": "almaty"}, {"region": "almaty", "district": "medeu"}):
        operator = bearer(token("operator", scope=scope))
        listing = await client.get("/v1/children", params={"region_code": "almaty"}, headers=operator)
        assert listing.json()["total"] == 1
        assert {p: (await client.get(p, headers=operator)).status_code for p, _ in reads(w)} == {
            p: 200 for p, _ in reads(w)
        }
    auditor = bearer(token("auditor"))
    assert {p: (await client.get(p, headers=auditor)).status_code for p, _ in reads(w)} == {p: 200 for p, _ in reads(w)}
    rounds = (await client.get("/v1/rounds")).json()["items"]
    voucher = (await client.get(f"/v1/children/{w['child']}/vouchers", headers=auditor)).json()["items"][0][
        "voucher_id"
    ]
    before = await snapshot(url)
    writes = [
        ("PUT", "/v1/regions/almaty", yaml.safe_load((REGIONS / "almaty.yaml").read_text())),
        ("POST", "/v1/rounds", {"region_code": "almaty"}),
        ("POST", f"/v1/rounds/{rounds[0]['round_id']}/close", None),
        ("POST", f"/v1/vouchers/{voucher}/revoke", {"reason": "audit"}),
        ("POST", f"/v1/applications/{w['application']}/withdraw", None),
        ("POST", "/v1/vouchers/expiry-sweep", None),
    ]
    for role in ("auditor", "operator"):
        headers = bearer(token(role, scope={"region": "almaty"} if role == "operator" else None))
        for method, path, body in writes:
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (role, method, path, response.text)
    assert await snapshot(url) == before
