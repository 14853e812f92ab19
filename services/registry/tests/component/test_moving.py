"""A family moves: the child's district or region changes, by the parent or assisted by an operator."""

from __future__ import annotations

import uuid

import pytest

from qosym_contracts.allocation import District, LocalisedName
from tests.support.events import message, region_event

from .test_children_api import CHILD_IIN, clear_rate_limits, scalar
from .test_people_and_identity import ADULT_IIN, auth, register_person

pytestmark = pytest.mark.component
NAME = LocalisedName(en="x", kk="x", ru="x")


@pytest.fixture
async def registry_db(service_db, consumer, stack_servers) -> str:
    await clear_rate_limits(stack_servers)
    url = await service_db("registry")
    event = region_event(districts=[District(code="yesil", name=NAME), District(code="nura", name=NAME)])
    await (await consumer("registry", url)).deliver(message(event))
    return url


async def changed_events(url: str) -> int:
    return await scalar(url, "select count(*) from outbox where event_type = 'registry.ChildDetailsChanged'")


async def test_a_parent_moves_a_child_and_the_change_is_published_once(registry_db, api_client, token):
    async with api_client("registry", registry_db) as client:
        parent = await register_person(client)
        headers = auth(token("parent", parent["id"]))
        child = (
            await client.post(
                "/v1/children",
                json={"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"},
                headers=headers,
            )
        ).json()["id"]
        moved = await client.patch(f"/v1/children/{child}", json={"district_code": "nura"}, headers=headers)
        again = await client.patch(f"/v1/children/{child}", json={"district_code": "nura"}, headers=headers)
        nowhere = await client.patch(f"/v1/children/{child}", json={"district_code": "atlantis"}, headers=headers)
        stranger = await client.patch(
            f"/v1/children/{child}", json={"district_code": "yesil"}, headers=auth(token("parent"))
        )
        extra = await client.patch(f"/v1/children/{child}", json={"birth_date": "2010-01-01"}, headers=headers)
    assert moved.status_code == 200 and moved.json()["district_code"] == "nura"
    assert again.status_code == 200
    assert nowhere.status_code == 422 and nowhere.json()["errors"][0]["field"] == "district_code"
    assert stranger.status_code == 404
    assert extra.status_code == 422 and extra.json()["errors"][0]["field"] == "birth_date"
    assert await changed_events(registry_db) == 1
    payload = await scalar(
        registry_db, "select payload::text from outbox where event_type = 'registry.ChildDetailsChanged'"
    )
    assert '"nura"' in payload and CHILD_IIN not in payload
    assert await scalar(registry_db, "select district_code from child") == "nura"
    assert await scalar(registry_db, "select count(*) from audit_log where action = 'child.details_changed'") == 1


async def test_an_operator_assisted_move_applies_only_after_the_guardians_code(registry_db, api_client, token):
    operator_id = str(uuid.uuid4())
    operator = auth(token("operator", operator_id, scope={"region": "astana", "district": "yesil"}))
    async with api_client("registry", registry_db) as client:
        parent = await register_person(client)
        child = (
            await client.post(
                "/v1/children",
                json={"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"},
                headers=auth(token("parent", parent["id"])),
            )
        ).json()["id"]
        elsewhere = await client.post(
            f"/v1/assisted/children/{child}/move",
            json={"parent_iin": ADULT_IIN, "district_code": "nura"},
            headers=auth(token("operator", scope={"region": "almaty"})),
        )
        started = await client.post(
            f"/v1/assisted/children/{child}/move",
            json={"parent_iin": ADULT_IIN, "district_code": "nura"},
            headers=operator,
        )
        before = await changed_events(registry_db)
        code = client._transport.app.state.registry.sms.sent[-1][1].split()[2].rstrip(".")
        confirmed = await client.post(
            f"/v1/assisted/{started.json()['change_id']}/confirm", json={"code": code}, headers=operator
        )
    assert elsewhere.status_code == 404
    assert started.status_code == 202 and before == 0
    assert confirmed.status_code == 200 and confirmed.json()["district_code"] == "nura"
    assert await changed_events(registry_db) == 1
    assert (
        await scalar(
            registry_db,
            f"select acting_for from audit_log where action = 'child.details_changed' and actor = 'operator:{operator_id}'",
        )
        == parent["id"]
    )
