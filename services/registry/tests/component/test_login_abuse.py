"""Login abuse and token replay, tried as an attacker would (issue 13, findings 2 and 3)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pyotp
import pytest
import uvicorn
from redis.asyncio import Redis
from sqlalchemy import event

from qosym_chassis.cli import proxy_options
from qosym_chassis.idempotency import MARKER, NOT_STORED
from qosym_cli.tokens import keys_dir
from registry.adapters import credentials
from registry.config import RegistrySettings
from registry.entrypoints.api import create_app
from tests.support.people import synthetic_adult_iin

from .test_children_api import register_by_code, scalar
from .test_people_and_identity import ADULT_IIN, auth, login, register_person, sent_code
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


async def test_a_login_sent_with_an_idempotency_key_is_not_replayed_to_another_client(registry_db, api_client):
    async with api_client("registry", registry_db) as client:
        await register_person(client)
        challenge = (await client.post("/v1/auth/otp/request", json={"iin": ADULT_IIN})).json()["challenge_id"]
        body = {"challenge_id": challenge, "code": await sent_code(client)}
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


@asynccontextmanager
async def served_registry(database_url, stack_servers, jwks_url, **overrides) -> AsyncIterator[httpx.AsyncClient]:
    """The registry app behind a real uvicorn, configured as ``python -m registry api`` configures it."""
    settings = RegistrySettings(
        database_url=database_url,
        kafka_bootstrap_servers=stack_servers.state.kafka_bootstrap_servers,
        redis_url=stack_servers.state.redis_url,
        jwks_url=jwks_url,
        keys_dir=keys_dir(stack_servers.home),
        dev_mode=True,
        **overrides,
    )
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=0, log_level="warning", **proxy_options(settings)
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(500):  # wait for the condition, at most 10 s
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield http
    finally:
        server.should_exit = True
        await serving


async def code_requests_from_rotating_addresses(http: httpx.AsyncClient, count: int) -> list[int]:
    statuses = []
    for n in range(count):
        response = await http.post(
            "/v1/auth/otp/request", json={"iin": synthetic_adult_iin()}, headers={"X-Forwarded-For": f"203.0.113.{n}"}
        )
        statuses.append(response.status_code)
    return statuses


async def test_rotating_x_forwarded_for_does_not_escape_the_per_address_limit(registry_db, stack_servers, jwks_url):
    async with served_registry(registry_db, stack_servers, jwks_url, otp_requests_per_address=3) as http:
        statuses = await code_requests_from_rotating_addresses(http, 5)
    assert statuses == [202, 202, 202, 429, 429]


async def test_a_configured_proxy_is_believed(registry_db, stack_servers, jwks_url):
    async with served_registry(
        registry_db, stack_servers, jwks_url, otp_requests_per_address=3, trusted_proxies="127.0.0.1"
    ) as http:
        statuses = await code_requests_from_rotating_addresses(http, 5)
    assert statuses == [202] * 5  # five clients behind the proxy, one request each


@pytest.fixture
def argon2_calls(monkeypatch) -> list[str]:
    """Counts the real argon2 work of each login (a spy: the real functions still run)."""
    calls: list[str] = []
    for name in ("hash_password", "password_matches"):
        real = getattr(credentials, name)

        def spy(*args, _real=real, _name=name):
            calls.append(_name)
            return _real(*args)

        monkeypatch.setattr(credentials, name, spy)
    return calls


async def new_staff(client, token) -> dict:
    body = {"username": "aigul.op", "role": "operator", "scope": {"region": "astana"}}
    created = await client.post("/v1/staff", json=body, headers=auth(token("administrator")))
    assert created.status_code == 201, created.text
    return created.json()


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def test_staff_login_is_locked_after_five_failures_and_says_when_to_retry(registry_db, api_client, token):
    async with api_client("registry", registry_db) as client:
        staff = await new_staff(client, token)
        totp = pyotp.TOTP(staff["totp_secret"])

        def attempt(password: str):
            body = {"username": "aigul.op", "password": password, "totp": totp.now()}
            return client.post("/v1/auth/staff/login", json=body)

        failures = [(await attempt("not-the-password")).status_code for _ in range(5)]
        locked = await attempt(staff["one_time_password"])
    assert failures == [401] * 5
    assert locked.status_code == 429 and locked.headers["content-type"] == "application/problem+json"
    assert 0 < int(locked.headers["retry-after"]) <= 900 and "access_token" not in locked.text


async def test_a_success_clears_the_failures_of_a_staff_account(registry_db, api_client, token):
    async with api_client("registry", registry_db) as client:
        staff = await new_staff(client, token)
        totp = pyotp.TOTP(staff["totp_secret"])
        body = {"username": "aigul.op", "password": "nope", "totp": totp.now()}
        for _ in range(4):
            await client.post("/v1/auth/staff/login", json=body)
        ok = await client.post(
            "/v1/auth/staff/login", json={**body, "password": staff["one_time_password"], "totp": totp.now()}
        )
        after = [(await client.post("/v1/auth/staff/login", json=body)).status_code for _ in range(4)]
    assert ok.status_code == 200 and after == [401] * 4


async def test_staff_login_guesses_cost_no_argon2_and_are_limited_per_username_and_address(
    registry_db, api_client, token, argon2_calls
):
    async with api_client("registry", registry_db, login_attempts_per_address=12) as client:
        staff = await new_staff(client, token)
        argon2_calls.clear()
        code = pyotp.TOTP(staff["totp_secret"]).now()
        guesses = [
            await client.post("/v1/auth/staff/login", json={"username": name, "password": "guess", "totp": wrong(code)})
            for name in ["aigul.op"] * 10 + ["nobody"]
        ]
        per_username = await client.post(
            "/v1/auth/staff/login", json={"username": "aigul.op", "password": "guess", "totp": code}
        )
        per_address = await client.post(
            "/v1/auth/staff/login", json={"username": "someone.else", "password": "guess", "totp": code}
        )
    assert [g.status_code for g in guesses] == [401] * 5 + [429] * 5 + [401]  # locked after five
    assert argon2_calls == []  # a wrong second factor never reaches the password hash
    assert per_username.status_code == 429 and per_address.status_code == 429


async def test_client_credentials_are_locked_after_five_failures_and_malformed_ids_cost_nothing(
    registry_db, api_client, token, argon2_calls
):
    async with api_client("registry", registry_db) as client:
        account = (
            await client.post("/v1/service-accounts", json={"name": "partner"}, headers=auth(token("administrator")))
        ).json()
        argon2_calls.clear()
        malformed = await client.post(
            "/v1/auth/token", data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "s"}
        )
        assert malformed.status_code == 401 and argon2_calls == []
        grant = {"grant_type": "client_credentials", "client_id": account["client_id"]}
        failures = [
            (await client.post("/v1/auth/token", data={**grant, "client_secret": "wrong"})).status_code
            for _ in range(5)
        ]
        locked = await client.post("/v1/auth/token", data={**grant, "client_secret": account["client_secret"]})
    assert failures == [401] * 5
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0


async def test_a_code_request_does_the_same_work_for_a_known_and_an_unknown_iin(registry_db, api_client):
    """Not a timing assertion: the same statements, in the same order, and nothing awaited on the SMS gateway."""
    async with api_client("registry", registry_db) as client:
        await register_person(client)
        registry = client._transport.app.state.registry
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            statements.append(statement)

        engine = registry.context.engine.sync_engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            worked = {}
            for label, iin in (("known", ADULT_IIN), ("unknown", synthetic_adult_iin())):
                statements.clear()
                response = await client.post("/v1/auth/otp/request", json={"iin": iin})
                assert response.status_code == 202
                worked[label] = list(statements)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        await registry.outgoing_sms.idle()
    assert worked["known"] == worked["unknown"] and any("INSERT INTO otp_challenge" in s for s in worked["known"])
    login_codes = [text for _, text in registry.sms.sent if text.startswith("Qosym code")]
    assert len(login_codes) == 1  # only the known person gets a code, sent after the answer
    assert await scalar(registry_db, "select count(*) from otp_challenge") == 1  # none for the unknown IIN


async def test_a_code_request_answers_without_waiting_for_the_sms_gateway(registry_db, api_client):
    gate = asyncio.Event()

    class SlowGateway:
        def __init__(self) -> None:
            self.sent: list = []

        async def send(self, *, person_id, phone, text) -> None:
            await gate.wait()  # a gateway that has not answered yet
            self.sent.append((person_id, text))

    async with api_client("registry", registry_db) as client:
        await register_person(client)
        registry = client._transport.app.state.registry
        registry.outgoing_sms.sender = SlowGateway()
        answered = await client.post("/v1/auth/otp/request", json={"iin": ADULT_IIN})
        assert answered.status_code == 202 and registry.outgoing_sms.sender.sent == []
        gate.set()
        await registry.outgoing_sms.idle()
    assert len(registry.outgoing_sms.sender.sent) == 1


def person_body(iin: str, phone: str = "+77011234567") -> dict:
    return {"iin": iin, "phone": phone, "consent": {"data_processing": True}}


async def test_registering_does_not_tell_whether_an_iin_is_registered(registry_db, api_client):
    """The probe: a known IIN with another phone answered 409; with its phone, the person id, birth date and sex."""
    async with api_client("registry", registry_db) as client:
        await register_person(client)
        registry = client._transport.app.state.registry
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            statements.append(statement)

        engine = registry.context.engine.sync_engine
        event.listen(engine, "before_cursor_execute", record)
        answers, worked = {}, {}
        try:
            for label, body in (
                ("new", person_body(synthetic_adult_iin(), "+77012223344")),
                ("known, its phone", person_body(ADULT_IIN)),
                ("known, another phone", person_body(ADULT_IIN, "+77019999999")),
            ):
                statements.clear()
                answers[label] = await client.post("/v1/people", json=body)
                worked[label] = list(statements)
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert {label: a.status_code for label, a in answers.items()} == dict.fromkeys(answers, 202)
    assert {tuple(sorted(a.json())) for a in answers.values()} == {("expires_in", "registration_id")}
    assert worked["new"] == worked["known, its phone"] == worked["known, another phone"]
    for answer in answers.values():
        assert "birth_date" not in answer.text and "sex" not in answer.text
    assert await scalar(registry_db, "select count(*) from person") == 1  # nothing is written before the code


async def test_the_owner_re_registers_with_the_code_and_another_phone_learns_only_after_proving_it(
    registry_db, api_client
):
    async with api_client("registry", registry_db) as client:
        first = await register_person(client)
        again = await register_by_code(client, person_body(ADULT_IIN))
        other_phone = await register_by_code(client, person_body(ADULT_IIN, "+77019999999"))
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert other_phone.status_code == 409 and first["id"] not in other_phone.text
    assert ADULT_IIN not in other_phone.text


async def test_a_registration_code_allows_five_tries_and_is_used_once(registry_db, api_client):
    async with api_client("registry", registry_db) as client:
        started = await client.post("/v1/people", json=person_body(ADULT_IIN))
        registry = client._transport.app.state.registry
        await registry.outgoing_sms.idle()
        code = registry.sms.sent[-1][1].split()[3].rstrip(".")
        confirm = {"registration_id": started.json()["registration_id"]}
        tries = [
            (await client.post("/v1/people/confirm", json={**confirm, "code": wrong(code)})).status_code
            for _ in range(5)
        ]
        after_five = await client.post("/v1/people/confirm", json={**confirm, "code": code})
        second = await client.post("/v1/people", json=person_body(ADULT_IIN))
        await registry.outgoing_sms.idle()
        second_code = registry.sms.sent[-1][1].split()[3].rstrip(".")
        second_confirm = {"registration_id": second.json()["registration_id"], "code": second_code}
        done = await client.post("/v1/people/confirm", json=second_confirm)
        replayed = await client.post("/v1/people/confirm", json=second_confirm)
    assert tries == [401] * 5 and after_five.status_code == 401
    assert done.status_code == 201 and replayed.status_code == 401


async def test_registrations_are_rate_limited_per_phone(registry_db, api_client):
    async with api_client("registry", registry_db) as client:
        statuses = [
            (await client.post("/v1/people", json=person_body(synthetic_adult_iin(), "+77015556677"))).status_code
            for _ in range(4)
        ]
    assert statuses == [202, 202, 202, 429]


async def test_an_operator_registers_a_person_at_once_and_a_parent_token_changes_nothing(
    registry_db, api_client, token
):
    async with api_client("registry", registry_db) as client:
        operator = auth(token("operator", scope={"region": "astana"}))
        created = await client.post("/v1/people", json=person_body(ADULT_IIN), headers=operator)
        again = await client.post("/v1/people", json=person_body(ADULT_IIN), headers=operator)
        other = await client.post("/v1/people", json=person_body(ADULT_IIN, "+77019999999"), headers=operator)
        as_parent = await client.post("/v1/people", json=person_body(ADULT_IIN), headers=auth(token("parent")))
    assert created.status_code == 201 and again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert other.status_code == 409
    assert as_parent.status_code == 202 and "id" not in as_parent.json()
