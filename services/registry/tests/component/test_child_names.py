"""A child's display name: given by the guardian, never published, read only by the staff of the providers the child
is currently enrolled with (registry's projection of catalog's enrolments)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from qosym_chassis.consumer import IncomingMessage, Outcome
from qosym_contracts.catalog import EnrolmentConfirmedV1, EnrolmentEndedV1
from tests.support.people import synthetic_iin

from .test_children_api import clear_rate_limits, parent_headers, region_event, scalar

pytestmark = pytest.mark.component


@pytest.fixture
async def registry_db(service_db, consumer, stack_servers) -> str:
    """A fresh registry database that knows Astana (as test_children_api's)."""
    await clear_rate_limits(stack_servers)
    url = await service_db("registry")
    await deliver(await consumer("registry", url), region_event())
    return url


def confirmed(child_id: str, provider_id: uuid.UUID) -> EnrolmentConfirmedV1:
    return EnrolmentConfirmedV1(
        enrolment_id=uuid.uuid4(),
        child_id=uuid.UUID(child_id),
        programme_id=uuid.uuid4(),
        provider_id=provider_id,
        voucher_id=uuid.uuid4(),
        direction="sports",
        region_code="astana",
        district_code="yesil",
        price_per_month_tiyn=1_500_000,
        sessions_per_month=8,
    )


async def deliver(registry_consumer, *events) -> None:
    for event in events:
        message = IncomingMessage(event.topic, event.model_dump_json().encode())
        assert await registry_consumer.deliver(message) is Outcome.APPLIED


def staff(token, provider_id: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {token('provider_staff', scope={'provider': str(provider_id)})}"}


async def register(client, headers, iin: str, **extra) -> dict:
    body = {"iin": iin, "region_code": "astana", "district_code": "yesil", **extra}
    response = await client.post("/v1/children", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_name_is_trimmed_kept_changed_by_the_guardian_and_never_published(registry_db, api_client, token):
    async with api_client("registry", registry_db) as client:
        headers = await parent_headers(client, token)
        child = await register(client, headers, synthetic_iin(date(2017, 5, 14)), name="  Aigerim S. ")
        renamed = await client.patch(f"/v1/children/{child['id']}", json={"name": "Aika S."}, headers=headers)
        fetched = await client.get(f"/v1/children/{child['id']}", headers=headers)
        stranger = await client.patch(
            f"/v1/children/{child['id']}", json={"name": "X"}, headers=await parent_headers(client, token)
        )
    assert child["name"] == "Aigerim S."
    assert renamed.status_code == 200 and renamed.json()["name"] == "Aika S."
    assert fetched.json()["name"] == "Aika S."
    assert stranger.status_code == 404
    events = str(await scalar(registry_db, "select string_agg(payload::text || headers::text, ' ') from outbox"))
    assert "Aigerim" not in events and "Aika" not in events
    # a rename alone publishes nothing (ChildDetailsChanged carries the place, never the name)
    assert (
        await scalar(registry_db, "select count(*) from outbox where event_type = 'registry.ChildDetailsChanged'") == 0
    )


async def test_the_guardian_clears_the_name_with_null_and_omitting_it_keeps_it(registry_db, api_client, token):
    async with api_client("registry", registry_db) as client:
        headers = await parent_headers(client, token)
        child = await register(client, headers, synthetic_iin(date(2017, 5, 14)), name="Aigerim S.")
        moved = await client.patch(f"/v1/children/{child['id']}", json={"district_code": "yesil"}, headers=headers)
        cleared = await client.patch(f"/v1/children/{child['id']}", json={"name": None}, headers=headers)
        fetched = await client.get(f"/v1/children/{child['id']}", headers=headers)
    assert moved.status_code == 200 and moved.json()["name"] == "Aigerim S."  # omitted: unchanged
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["name"] is None and fetched.json()["name"] is None
    assert await scalar(registry_db, "select count(*) from child where name is not null") == 0
    assert await scalar(registry_db, "select count(*) from audit_log where action = 'child.renamed'") == 1


@pytest.mark.parametrize(
    ("name", "code"), [("", "string_too_short"), ("   ", "string_too_short"), ("x" * 61, "string_too_long")]
)
async def test_a_bad_name_is_refused_naming_the_field(registry_db, api_client, token, name, code):
    async with api_client("registry", registry_db) as client:
        response = await client.post(
            "/v1/children",
            json={
                "iin": synthetic_iin(date(2017, 5, 14)),
                "region_code": "astana",
                "district_code": "yesil",
                "name": name,
            },
            headers=await parent_headers(client, token),
        )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {"field": "name", "type": code}.items() <= response.json()["errors"][0].items()
    assert await scalar(registry_db, "select count(*) from child") == 0


async def test_a_provider_reads_the_names_of_its_currently_enrolled_children_only(
    registry_db, api_client, token, consumer
):
    provider, other = uuid.uuid4(), uuid.uuid4()
    registry_consumer = await consumer("registry", registry_db)
    async with api_client("registry", registry_db) as client:
        headers = await parent_headers(client, token)
        enrolled = await register(client, headers, synthetic_iin(date(2017, 5, 14)), name="Aigerim S.")
        nameless = await register(client, headers, synthetic_iin(date(2016, 3, 1), "M"))
        leaving = await register(client, headers, synthetic_iin(date(2015, 9, 9)), name="Timur K.")
        never = await register(
            client, await parent_headers(client, token), synthetic_iin(date(2017, 3, 3), "M"), name="Dana B."
        )
        left = confirmed(leaving["id"], provider)
        ended = EnrolmentEndedV1(enrolment_id=left.enrolment_id, child_id=left.child_id, reason="left")
        elsewhere = confirmed(never["id"], other)
        await deliver(
            registry_consumer, confirmed(enrolled["id"], provider), confirmed(nameless["id"], provider), left, ended
        )
        await deliver(registry_consumer, elsewhere, elsewhere.model_copy(update={"event_id": uuid.uuid4()}))
        own = await client.get(f"/v1/providers/{provider}/children", headers=staff(token, provider))
        some = await client.get(
            f"/v1/providers/{provider}/children",
            params=[("child_id", enrolled["id"]), ("child_id", never["id"])],
            headers=staff(token, provider),
        )
        foreign = await client.get(f"/v1/providers/{provider}/children", headers=staff(token, other))
        admin = await client.get(
            f"/v1/providers/{provider}/children", headers={"Authorization": f"Bearer {token('administrator')}"}
        )
        parent = await client.get(f"/v1/providers/{provider}/children", headers=headers)
        bad = await client.get(
            f"/v1/providers/{provider}/children", params={"child_id": "nope"}, headers=staff(token, provider)
        )
    assert own.status_code == 200, own.text
    listed = {item["id"]: item["name"] for item in own.json()["items"]}
    assert listed == {enrolled["id"]: "Aigerim S.", nameless["id"]: None}  # not the one who left, nor another's
    assert own.json()["total"] == 2
    assert set(own.json()["items"][0]) == {"id", "name"}  # nothing else of the child's record
    assert [item["id"] for item in some.json()["items"]] == [enrolled["id"]]
    assert foreign.status_code == 404
    assert admin.status_code == 200 and admin.json()["total"] == 2
    assert parent.status_code == 403
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "child_id.0"  # the first child_id given


async def test_an_end_delivered_before_its_confirmation_keeps_the_enrolment_ended(
    registry_db, api_client, token, consumer
):
    provider = uuid.uuid4()
    registry_consumer = await consumer("registry", registry_db)
    async with api_client("registry", registry_db) as client:
        child = await register(
            client, await parent_headers(client, token), synthetic_iin(date(2017, 5, 14)), name="Aigerim S."
        )
        enrolment = confirmed(child["id"], provider)
        ended = EnrolmentEndedV1(enrolment_id=enrolment.enrolment_id, child_id=enrolment.child_id)
        await deliver(registry_consumer, ended, enrolment)
        listed = await client.get(f"/v1/providers/{provider}/children", headers=staff(token, provider))
    assert listed.json()["items"] == []
