"""The development SMS gateway stand-in: the registry's real HTTP client delivers a code to a person's inbox."""

from __future__ import annotations

import logging
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from qosym_chassis.sms import HttpSmsGateway

pytestmark = pytest.mark.component
GATEWAY = "/dev/sms-gateway/v1/messages"
CODE_TEXT = "Qosym code: 314159. It expires in 5 minutes."


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def count_messages(url: str) -> int:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    async with engine.connect() as conn:
        value = (await conn.execute(text("select count(*) from inbox_message"))).scalar()
    await engine.dispose()
    return int(value or 0)


async def test_the_registry_client_delivers_one_sms_to_the_persons_inbox(service_db, api_client, token, caplog) -> None:
    person = uuid4()
    url = await service_db("notifications")
    caplog.set_level(logging.DEBUG)
    async with api_client("notifications", url) as client:
        gateway = HttpSmsGateway(
            "http://test/dev/sms-gateway", transport=httpx.ASGITransport(app=client._transport.app)
        )
        await gateway.send(person_id=person, phone="+77011234567", text=CODE_TEXT)
        own = await client.get("/v1/inbox", headers=bearer(token("parent", str(person))))
        other = await client.get("/v1/inbox", headers=bearer(token("parent", str(uuid4()))))
        anonymous = await client.get("/v1/inbox")
        auditor = await client.get("/v1/inbox", headers=bearer(token("auditor", str(person))))
        message_id = own.json()["items"][0]["id"]
        read_by_other = await client.post(f"/v1/inbox/{message_id}/read", headers=bearer(token("parent", str(uuid4()))))

    assert own.status_code == 200 and own.json()["total"] == 1
    message = own.json()["items"][0]
    assert (message["kind"], message["title"], message["body"]) == ("sms", "One-time code", CODE_TEXT)
    assert "+77011234567" not in own.text  # the phone is not kept: the inbox stands in for it
    assert other.json()["items"] == [] and read_by_other.status_code == 404
    assert (anonymous.status_code, auditor.status_code) == (401, 403)
    assert await count_messages(url) == 1
    assert "314159" not in caplog.text


async def test_the_stand_in_needs_a_reference_and_the_token_when_one_is_set(service_db, api_client) -> None:
    url = await service_db("notifications")
    body = {"to": "+77011234567", "text": CODE_TEXT, "reference": str(uuid4())}
    async with api_client("notifications", url, sms_gateway_token="s3cret") as client:
        without_reference = await client.post(GATEWAY, json={**body, "reference": None}, headers=bearer("s3cret"))
        without_token = await client.post(GATEWAY, json=body)
        wrong_token = await client.post(GATEWAY, json=body, headers=bearer("guess"))
        accepted = await client.post(GATEWAY, json=body, headers=bearer("s3cret"))
    assert without_reference.status_code == 422
    assert without_reference.json()["errors"][0]["field"] == "reference"
    assert without_token.status_code == wrong_token.status_code == 401
    assert accepted.status_code == 202 and UUID(accepted.json()["id"])
    assert "314159" not in without_reference.text + without_token.text + accepted.text
    assert await count_messages(url) == 1


async def test_the_stand_in_exists_only_in_dev_mode(service_db, api_client) -> None:
    url = await service_db("notifications")
    async with api_client("notifications", url, dev_mode=False) as client:
        response = await client.post(GATEWAY, json={"to": "+77011234567", "text": "x", "reference": str(uuid4())})
    assert response.status_code == 404
    assert await count_messages(url) == 0


async def test_the_local_phone_shows_the_newest_texts_the_stand_in_received_and_only_in_dev_mode(
    service_db, api_client
) -> None:
    """A newcomer on the local stack has no phone: the portal's code page shows what this stand-in received."""
    url = await service_db("notifications")
    async with api_client("notifications", url) as client:
        for n in range(4):
            body = {"to": f"+7701123456{n}", "text": f"Qosym code: 00000{n}.", "reference": str(uuid4())}
            assert (await client.post(GATEWAY, json=body)).status_code == 202
        phone = await client.get(GATEWAY, params={"limit": 3})
        bad = await client.get(GATEWAY, params={"limit": 0})
    assert phone.status_code == 200, phone.text
    page = phone.json()
    assert [m["text"] for m in page["items"]] == ["Qosym code: 000003.", "Qosym code: 000002.", "Qosym code: 000001."]
    assert page["total"] == 4 and all("+7701" not in str(m) for m in page["items"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "limit"
    async with api_client("notifications", url, dev_mode=False) as client:
        assert (await client.get(GATEWAY)).status_code == 404
