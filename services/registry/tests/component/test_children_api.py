"""The registry API against a real database: registering children, privacy, authorisation."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from qosym_chassis.consumer import IncomingMessage, Outcome
from qosym_contracts.allocation import District, LocalisedName, RegionConfiguredV1
from tests.support.people import synthetic_adult_iin, synthetic_phone

pytestmark = pytest.mark.component
CHILD_IIN = "180905600123"
NAME = LocalisedName(en="Astana", kk="Астана", ru="Астана")


def region_event(revision: int = 1, age_min: int = 4) -> RegionConfiguredV1:
    return RegionConfiguredV1(
        region_code="astana",
        revision=revision,
        name=NAME,
        timezone="Asia/Almaty",
        districts=[District(code="yesil", name=NAME)],
        consultation_points=[],
        directions=["sports"],
        child_age_min=age_min,
        child_age_max=18,
        voucher_monthly_value_tiyn={"sports": 1_500_000},
        voucher_months=9,
        priority_weights={"orphan": 120},
        budget_tiyn=10_000_000,
        direction_quotas={"sports": 1.0},
    )


async def clear_rate_limits(stack_servers) -> None:
    """The registry's Redis counters (rate limits, lockouts, pending registrations) left by earlier tests."""
    redis = Redis.from_url(stack_servers.state.redis_url)
    keys = [key async for key in redis.scan_iter("registry:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


@pytest.fixture
async def registry_db(service_db, consumer, stack_servers) -> str:
    await clear_rate_limits(stack_servers)
    url = await service_db("registry")
    registry_consumer = await consumer("registry", url)
    event = region_event()
    outcome = await registry_consumer.deliver(IncomingMessage(event.topic, event.model_dump_json().encode()))
    assert outcome is Outcome.APPLIED
    return url


async def scalar(url: str, sql: str) -> object:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    async with engine.connect() as conn:
        value = (await conn.execute(text(sql))).scalar()
    await engine.dispose()
    return value


async def register_by_code(client, body: dict):
    """Self-registration as a person does it: 202, the code from the SMS sent to the phone, then confirm."""
    started = await client.post("/v1/people", json=body)
    assert started.status_code == 202, started.text
    registry = client._transport.app.state.registry
    await registry.outgoing_sms.idle()
    reference, text = registry.sms.sent[-1]
    registration_id = started.json()["registration_id"]
    assert str(reference) == registration_id
    code = text.split()[3].rstrip(".")
    return await client.post("/v1/people/confirm", json={"registration_id": registration_id, "code": code})


async def register_adult(client) -> str:
    """A registered adult person (synthetic IIN): their person id."""
    body = {"iin": synthetic_adult_iin(), "phone": synthetic_phone(), "consent": {"data_processing": True}}
    response = await register_by_code(client, body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def parent_headers(client, token) -> dict[str, str]:
    """Authorization for a registered adult person with the parent role."""
    return {"Authorization": f"Bearer {token('parent', await register_adult(client))}"}


async def test_a_parent_registers_a_child_and_the_event_is_staged_without_the_iin(registry_db, api_client, token):
    async with api_client("registry", registry_db) as client:
        headers = await parent_headers(client, token)
        created = await client.post(
            "/v1/children", json={"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"}, headers=headers
        )
        again = await client.post(
            "/v1/children",
            json={"iin": f" {CHILD_IIN} ", "region_code": "astana", "district_code": "yesil"},
            headers=headers,
        )
        fetched = await client.get(f"/v1/children/{created.json()['id']}", headers=headers)
    assert created.status_code == 201
    assert created.json()["iin_masked"] == "********0123"
    assert created.json()["birth_date"] == "2018-09-05"
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert fetched.status_code == 200
    assert await scalar(registry_db, "select count(*) from child") == 1
    assert await scalar(registry_db, "select count(*) from outbox where event_type = 'registry.ChildRegistered'") == 1
    payload = str(await scalar(registry_db, "select payload::text || headers::text from outbox"))
    assert CHILD_IIN not in payload
    stored = await scalar(registry_db, "select encode(iin_ciphertext, 'escape') from child")
    assert CHILD_IIN not in str(stored)


async def test_another_guardian_cannot_take_or_see_the_child(registry_db, api_client, token):
    body = {"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"}
    async with api_client("registry", registry_db) as client:
        first, second = await parent_headers(client, token), await parent_headers(client, token)
        created = await client.post("/v1/children", json=body, headers=first)
        taken = await client.post("/v1/children", json=body, headers=second)
        peek = await client.get(f"/v1/children/{created.json()['id']}", headers=second)
        missing = await client.get(f"/v1/children/{uuid.uuid4()}", headers=second)
    assert taken.status_code == 409
    assert CHILD_IIN not in taken.text
    assert peek.status_code == 404 and missing.status_code == 404
    assert peek.json()["detail"] == missing.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"iin": "180905600124", "region_code": "astana", "district_code": "yesil"}, "iin", "iin_checksum"),
        ({"iin": "１８０９０５６００１２３", "region_code": "astana", "district_code": "yesil"}, "iin", "iin_format"),
        ({"iin": CHILD_IIN, "region_code": "mars", "district_code": "yesil"}, "region_code", "unknown_region"),
        ({"iin": CHILD_IIN, "region_code": "astana", "district_code": "nowhere"}, "district_code", "unknown_district"),
        ({"iin": "900101300017", "region_code": "astana", "district_code": "yesil"}, "iin", "age_out_of_band"),
        ({"iin": CHILD_IIN, "region_code": "astana"}, "district_code", "missing"),
        (
            {"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil", "guardian_id": "x"},
            "guardian_id",
            "extra_forbidden",
        ),
    ],
)
async def test_bad_input_names_the_field_and_changes_nothing(registry_db, api_client, token, body, field, code):
    async with api_client("registry", registry_db) as client:
        response = await client.post("/v1/children", json=body, headers=await parent_headers(client, token))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {"field": field, "type": code}.items() <= response.json()["errors"][0].items()
    assert "180905600124" not in response.text and CHILD_IIN not in response.text
    assert await scalar(registry_db, "select count(*) from child") == 0
    assert await scalar(registry_db, "select count(*) from outbox") == 0


async def test_only_parents_register_and_tokens_are_verified(registry_db, api_client, token):
    body = {"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"}
    async with api_client("registry", registry_db) as client:
        anonymous = await client.post("/v1/children", json=body)
        operator = await client.post(
            "/v1/children",
            json=body,
            headers={"Authorization": f"Bearer {token('operator', scope={'region': 'astana'})}"},
        )
        forged = await client.post("/v1/children", json=body, headers={"Authorization": "Bearer abc.def.ghi"})
    assert (anonymous.status_code, operator.status_code, forged.status_code) == (401, 403, 401)


async def test_an_older_region_revision_never_overwrites_a_newer_one(registry_db, consumer):
    registry_consumer = await consumer("registry", registry_db)
    newer, older = region_event(revision=3, age_min=6), region_event(revision=2, age_min=5)
    for event in (newer, older, newer):
        await registry_consumer.deliver(IncomingMessage(event.topic, event.model_dump_json().encode()))
    assert await scalar(registry_db, "select child_age_min from region where code = 'astana'") == 6
    assert await scalar(registry_db, "select count(*) from inbox") == 3  # first region event + newer + older


async def test_idempotency_key_replays_the_first_response(registry_db, api_client, token):
    body = {"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"}
    async with api_client("registry", registry_db) as client:
        headers = {**await parent_headers(client, token), "Idempotency-Key": "k-1"}
        first = await client.post("/v1/children", json=body, headers=headers)
        replay = await client.post("/v1/children", json=body, headers=headers)
        other = await client.post("/v1/children", json={**body, "iin": "061211600012"}, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422


async def test_only_a_registered_adult_person_registers_a_child(registry_db, api_client, token):
    body = {"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"}
    async with api_client("registry", registry_db) as client:
        unregistered = await client.post(
            "/v1/children", json=body, headers={"Authorization": f"Bearer {token('parent')}"}
        )
        registered = await client.post("/v1/children", json=body, headers=await parent_headers(client, token))
    assert unregistered.status_code == 403
    assert unregistered.headers["content-type"] == "application/problem+json"
    assert "registered person" in unregistered.json()["detail"] and CHILD_IIN not in unregistered.text
    assert registered.status_code == 201
    assert await scalar(registry_db, "select count(*) from child") == 1
    assert await scalar(registry_db, "select count(*) from outbox where event_type = 'registry.ChildRegistered'") == 1
