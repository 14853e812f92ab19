"""Login abuse and token replay, tried as an attacker would (issue 13, findings 2 and 3)."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from qosym_chassis.idempotency import MARKER, NOT_STORED

from .test_children_api import scalar
from .test_people_and_identity import ADULT_IIN, auth, login, register_person
from .test_people_and_identity import registry_db as registry_db

pytestmark = pytest.mark.component
SECRET_FIELDS = {"access_token", "refresh_token", "one_time_password", "totp_secret", "totp_uri", "client_secret"}


@pytest.fixture(autouse=True)
async def fresh_limits(stack_servers) -> None:
    redis = Redis.from_url(stack_servers.state.redis_url)
    keys = [key async for key in redis.scan_iter("registry:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def sent_code(client) -> str:
    return client._transport.app.state.registry.sms.sent[-1][1].split()[2].rstrip(".")


async def test_a_login_sent_with_an_idempotency_key_is_not_replayed_to_another_client(registry_db, api_client):
    async with api_client("registry", registry_db) as client:
        await register_person(client)
        challenge = (await client.post("/v1/auth/otp/request", json={"iin": ADULT_IIN})).json()["challenge_id"]
        body = {"challenge_id": challenge, "code": sent_code(client)}
        victim = await client.post("/v1/auth/otp/verify", json=body, headers={"Idempotency-Key": "retry-1"})
        attacker = await client.post("/v1/auth/otp/verify", json=body, headers={"Idempotency-Key": "retry-1"})
    assert victim.status_code == 200
    assert attacker.status_code == 401 and victim.json()["refresh_token"] not in attacker.text
    assert await scalar(registry_db, "select count(*) from idempotency_key") == 0


async def test_one_time_secrets_are_never_stored_even_for_an_authenticated_caller(registry_db, api_client, token):
    admin = auth(token("administrator"))
    async with api_client("registry", registry_db) as client:
        body = {"username": "aigul.op", "role": "operator", "scope": {"region": "astana"}}
        created = await client.post("/v1/staff", json=body, headers={**admin, "Idempotency-Key": "new-staff"})
        retried = await client.post("/v1/staff", json=body, headers={**admin, "Idempotency-Key": "new-staff"})
        account = await client.post(
            "/v1/service-accounts", json={"name": "partner"}, headers={**admin, "Idempotency-Key": "new-account"}
        )
    assert created.status_code == 201 and retried.status_code == 409  # ran again: nothing was kept to replay
    assert account.status_code == 201
    assert await scalar(registry_db, "select count(*) from idempotency_key") == 0


async def test_every_route_that_answers_with_a_token_or_secret_is_marked_never_stored(registry_db, api_client):
    async with api_client("registry", registry_db, dev_mode=True) as client:
        document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]

    def fields(schema: dict) -> set[str]:
        if "$ref" in schema:
            return fields(schemas[schema["$ref"].rsplit("/", 1)[1]])
        found = set(schema.get("properties", {}))
        for part in schema.get("anyOf", []) + schema.get("allOf", []):
            found |= fields(part)
        return found

    secret_routes, unmarked = [], []
    for path, operations in document["paths"].items():
        post = operations.get("post")
        if post is None:
            continue
        answered: set[str] = set()
        for code, response in post.get("responses", {}).items():
            if code.startswith("2"):
                for media in response.get("content", {}).values():
                    answered |= fields(media.get("schema", {}))
        if answered & SECRET_FIELDS:
            secret_routes.append(path)
            if post.get(MARKER) != NOT_STORED[MARKER]:
                unmarked.append(path)
    assert unmarked == []
    assert {"/v1/auth/otp/verify", "/v1/auth/staff/login", "/v1/auth/refresh", "/v1/auth/token"} <= set(secret_routes)
    assert {"/v1/staff", "/v1/service-accounts", "/v1/dev/tokens"} <= set(secret_routes)


async def test_a_parent_keeps_idempotent_retries_of_their_own_writes(registry_db, api_client):
    async with api_client("registry", registry_db) as client:
        await register_person(client)
        session = await login(client)
        headers = {**auth(session["access_token"]), "Idempotency-Key": "consent-1"}
        first = await client.post(
            "/v1/me/consents", json={"purpose": "notifications", "granted": True}, headers=headers
        )
        again = await client.post(
            "/v1/me/consents", json={"purpose": "notifications", "granted": True}, headers=headers
        )
    assert first.status_code == again.status_code == 204 and again.headers["idempotent-replayed"] == "true"
