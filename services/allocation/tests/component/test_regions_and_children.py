"""Allocation's API and consumers against a real database."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from qosym_chassis.consumer import IncomingMessage, Outcome
from qosym_contracts.registry import ChildRegisteredV1

pytestmark = pytest.mark.component
REGIONS = Path(__file__).resolve().parents[4] / "deploy" / "regions"


def astana() -> dict:
    return yaml.safe_load((REGIONS / "astana.yaml").read_text())


async def scalar(url: str, sql: str) -> object:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    async with engine.connect() as conn:
        value = (await conn.execute(text(sql))).scalar()
    await engine.dispose()
    return value


async def test_applying_a_region_publishes_once_per_real_change(service_db, api_client, token):
    url = await service_db("allocation")
    admin = {"Authorization": f"Bearer {token('administrator')}"}
    document = astana()
    async with api_client("allocation", url) as client:
        created = await client.put("/v1/regions/astana", json=document, headers=admin)
        unchanged = await client.put("/v1/regions/astana", json=document, headers=admin)
        document["budget_tiyn"] = 300_000_000_000
        changed = await client.put("/v1/regions/astana", json=document, headers=admin)
        public = await client.get("/v1/regions/astana")
    assert (created.status_code, unchanged.status_code, changed.status_code) == (201, 200, 200)
    assert [r.json()["revision"] for r in (created, unchanged, changed)] == [1, 1, 2]
    assert public.json()["config"]["budget_tiyn"] == 300_000_000_000
    assert await scalar(url, "select count(*) from outbox where event_type = 'allocation.RegionConfigured'") == 2
    assert await scalar(url, "select max((payload->>'revision')::int) from outbox") == 2


async def test_the_public_list_of_regions_is_one_page_by_code(service_db, api_client, token):
    url = await service_db("allocation")
    admin = {"Authorization": f"Bearer {token('administrator')}"}
    async with api_client("allocation", url) as client:
        for code in ("astana", "almaty"):
            document = yaml.safe_load((REGIONS / f"{code}.yaml").read_text())
            assert (await client.put(f"/v1/regions/{code}", json=document, headers=admin)).status_code == 201
        listed = await client.get("/v1/regions")
        second = await client.get("/v1/regions", params={"offset": 1, "limit": 1})
    assert listed.status_code == 200, listed.text
    assert [r["config"]["code"] for r in listed.json()["items"]] == ["almaty", "astana"]
    assert listed.json()["total"] == 2
    assert [r["config"]["code"] for r in second.json()["items"]] == ["astana"]


async def test_an_invalid_region_names_the_field_and_changes_nothing(service_db, api_client, token):
    url = await service_db("allocation")
    admin = {"Authorization": f"Bearer {token('administrator')}"}
    document = astana()
    document["voucher"]["months"] = 0
    async with api_client("allocation", url) as client:
        bad = await client.put("/v1/regions/astana", json=document, headers=admin)
        mismatch = await client.put("/v1/regions/almaty", json=astana(), headers=admin)
        garbage = await client.put("/v1/regions/astana", content=b"{not json", headers=admin)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "voucher.months"
    assert mismatch.status_code == 422 and mismatch.json()["errors"][0]["field"] == "code"
    assert garbage.status_code == 422
    assert await scalar(url, "select count(*) from region") == 0
    assert await scalar(url, "select count(*) from outbox") == 0


async def test_only_administrators_configure_regions(service_db, api_client, token):
    url = await service_db("allocation")
    async with api_client("allocation", url) as client:
        parent = await client.put(
            "/v1/regions/astana", json=astana(), headers={"Authorization": f"Bearer {token('parent')}"}
        )
        nobody = await client.put("/v1/regions/astana", json=astana())
    assert (parent.status_code, nobody.status_code) == (403, 401)


async def test_registered_children_are_projected_once_and_shown_only_to_their_guardian(
    service_db, api_client, consumer, token
):
    url = await service_db("allocation")
    guardian = str(uuid.uuid4())
    event = ChildRegisteredV1(
        child_id=uuid.uuid4(),
        guardian_id=uuid.UUID(guardian),
        birth_date=date(2016, 5, 14),
        sex="M",
        region_code="astana",
        district_code="yesil",
    )
    allocation = await consumer("allocation", url)
    message = IncomingMessage(event.topic, event.model_dump_json().encode())
    assert await allocation.deliver(message) is Outcome.APPLIED
    assert await allocation.deliver(message) is Outcome.DUPLICATE
    async with api_client("allocation", url) as client:
        own = await client.get(
            f"/v1/children/{event.child_id}", headers={"Authorization": f"Bearer {token('parent', guardian)}"}
        )
        other = await client.get(
            f"/v1/children/{event.child_id}", headers={"Authorization": f"Bearer {token('parent')}"}
        )
        staff = await client.get(
            "/v1/children",
            params={"region_code": "astana"},
            headers={"Authorization": f"Bearer {token('operator', scope={'region': 'astana'})}"},
        )
        parent_list = await client.get("/v1/children", headers={"Authorization": f"Bearer {token('parent', guardian)}"})
    assert own.status_code == 200 and own.json()["birth_date"] == "2016-05-14"
    assert other.status_code == 404
    assert staff.json()["total"] == 1
    assert parent_list.status_code == 403
    assert await scalar(url, "select count(*) from child") == 1


async def test_a_childs_verified_categories_are_shown_to_its_guardian(service_db, api_client, consumer, token):
    from qosym_contracts.registry import ChildCategoriesVerifiedV1, VerifiedCategory

    url = await service_db("allocation")
    guardian = uuid.uuid4()
    registered = ChildRegisteredV1(
        child_id=uuid.uuid4(),
        guardian_id=guardian,
        birth_date=date(2016, 5, 14),
        sex="M",
        region_code="astana",
        district_code="yesil",
    )
    verified = ChildCategoriesVerifiedV1(
        child_id=registered.child_id,
        region_code="astana",
        categories=[VerifiedCategory(code="orphan", valid_from=date(2026, 1, 1), valid_until=date(2027, 8, 31))],
    )
    allocation = await consumer("allocation", url)
    for event in (registered, verified):
        assert (
            await allocation.deliver(IncomingMessage(event.topic, event.model_dump_json().encode())) is Outcome.APPLIED
        )
    async with api_client("allocation", url) as client:
        own = await client.get(
            f"/v1/children/{registered.child_id}", headers={"Authorization": f"Bearer {token('parent', str(guardian))}"}
        )
    assert own.json()["verified_categories"] == [
        {"code": "orphan", "valid_from": "2026-01-01", "valid_until": "2027-08-31"}
    ]


async def test_a_familys_move_updates_the_projection_and_an_unknown_child_is_dead_lettered(service_db, consumer):
    from qosym_contracts.registry import ChildDetailsChangedV1

    url = await service_db("allocation")
    registered = ChildRegisteredV1(
        child_id=uuid.uuid4(),
        guardian_id=uuid.uuid4(),
        birth_date=date(2016, 5, 14),
        sex="M",
        region_code="astana",
        district_code="yesil",
    )
    moved = ChildDetailsChangedV1(
        child_id=registered.child_id, birth_date=date(2016, 5, 14), sex="M", region_code="astana", district_code="nura"
    )
    stranger = ChildDetailsChangedV1(
        child_id=uuid.uuid4(), birth_date=date(2016, 5, 14), sex="M", region_code="astana", district_code="nura"
    )
    allocation = await consumer("allocation", url)
    outcomes = [
        await allocation.deliver(IncomingMessage(e.topic, e.model_dump_json().encode()))
        for e in (registered, moved, stranger)
    ]
    assert outcomes == [Outcome.APPLIED, Outcome.APPLIED, Outcome.DEAD_LETTERED]
    assert await scalar(url, "select district_code from child") == "nura"


async def test_the_consumer_process_sweeps_voucher_deadlines_by_itself(service_db, consumer):
    url = await service_db("allocation")
    allocation = await consumer("allocation", url, voucher_sweep_interval_s=60)
    [(seconds, sweep)] = allocation.periodic
    assert seconds == 60
    assert await sweep() == 0  # nothing is due in an empty database, and the sweep runs against it
