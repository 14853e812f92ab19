"""People, guardianship, login, categories, review and the audit chain against a real database."""

from __future__ import annotations

import uuid
from datetime import date

import pyotp
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from qosym_chassis.consumer import IncomingMessage

from .test_children_api import CHILD_IIN, parent_headers, region_event, register_by_code, scalar

pytestmark = pytest.mark.component
ADULT_IIN = "900101300017"  # 1990-01-01, M
SECOND_ADULT_IIN = "061211600012"  # 2006-12-11, F: an adult since 2024
PDF = b"%PDF-1.7\n" + b"0" * 100
ASTANA = {"region": "astana"}


@pytest.fixture
async def registry_db(service_db, consumer, stack_servers) -> str:
    redis = Redis.from_url(stack_servers.state.redis_url)
    keys = [key async for key in redis.scan_iter("registry:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
    url = await service_db("registry")
    registry_consumer = await consumer("registry", url)
    event = region_event()
    await registry_consumer.deliver(IncomingMessage(event.topic, event.model_dump_json().encode()))
    return url


async def execute(url: str, *statements: str) -> None:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    async with engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))
    await engine.dispose()


def auth(token_value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_value}"}


async def register_person(client, iin: str = ADULT_IIN, **extra) -> dict:
    body = {"iin": iin, "phone": "+77011234567", "consent": {"data_processing": True}, **extra}
    response = await register_by_code(client, body)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def sent_code(client) -> str:
    """The code of the last login SMS (sent in the background: wait until it was handed over)."""
    registry = client._transport.app.state.registry
    await registry.outgoing_sms.idle()
    return registry.sms.sent[-1][1].split()[2].rstrip(".")


async def login(client, iin: str = ADULT_IIN) -> dict:
    challenge = await client.post("/v1/auth/otp/request", json={"iin": iin})
    assert challenge.status_code == 202, challenge.text
    code = await sent_code(client)
    session = await client.post(
        "/v1/auth/otp/verify", json={"challenge_id": challenge.json()["challenge_id"], "code": code}
    )
    assert session.status_code == 200, session.text
    return session.json()


async def test_person_registration_flags_mismatches_and_is_idempotent(registry_db, api_client, token):
    async with api_client("registry", registry_db) as client:
        first = await register_person(client, declared_birth_date="1990-01-02", declared_sex="M")
        again = await register_by_code(
            client, {"iin": ADULT_IIN, "phone": "+77011234567", "consent": {"data_processing": True}}
        )
        other_phone = await register_by_code(
            client, {"iin": ADULT_IIN, "phone": "+77019999999", "consent": {"data_processing": True}}
        )
        minor = await client.post(
            "/v1/people", json={"iin": CHILD_IIN, "phone": "+77011234567", "consent": {"data_processing": True}}
        )
        no_consent = await client.post(
            "/v1/people", json={"iin": ADULT_IIN, "phone": "+77011234567", "consent": {"data_processing": False}}
        )
        # people carry no region: an administrator reviews their flags (an operator sees their region's children)
        queue = await client.get("/v1/review/flags", headers=auth(token("administrator")))
        operator_queue = await client.get("/v1/review/flags", headers=auth(token("operator", scope=ASTANA)))
        by_operator = await client.post(
            f"/v1/review/flags/person/{first['id']}/clear", headers=auth(token("operator", scope=ASTANA))
        )
        cleared = await client.post(
            f"/v1/review/flags/person/{first['id']}/clear", headers=auth(token("administrator"))
        )
        parent_tries = await client.get("/v1/review/flags", headers=auth(token("parent")))
        after = await client.get("/v1/review/flags", headers=auth(token("administrator")))
    assert operator_queue.json()["items"] == [] and by_operator.status_code == 404
    assert first["flags"] == ["declared_birth_date_mismatch"] and first["iin_masked"] == "********0017"
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert other_phone.status_code == 409 and ADULT_IIN not in other_phone.text
    assert minor.status_code == 422 and minor.json()["errors"][0]["type"] == "guardian_not_adult"
    assert no_consent.status_code == 422 and no_consent.json()["errors"][0]["field"] == "consent.data_processing"
    assert [item["id"] for item in queue.json()["items"]] == [first["id"]] and queue.json()["total"] == 1
    assert cleared.status_code == 204 and after.json()["items"] == [] and parent_tries.status_code == 403
    assert await scalar(registry_db, "select count(*) from person") == 1


async def test_parent_logs_in_registers_children_and_links_a_second_guardian(registry_db, api_client, token):
    async with api_client("registry", registry_db) as client:
        await register_person(client)
        second = await register_person(client, SECOND_ADULT_IIN)
        session = await login(client)
        headers = auth(session["access_token"])
        body = {"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil", "declared_sex": "M"}
        child = (await client.post("/v1/children", json=body, headers=headers)).json()
        other_child = await client.post(
            "/v1/children", json={**body, "iin": "150101600016", "declared_sex": None}, headers=headers
        )
        listed = await client.get("/v1/children", headers=headers)
        linked = await client.post(
            f"/v1/children/{child['id']}/guardians", json={"iin": SECOND_ADULT_IIN}, headers=headers
        )
        unknown = await client.post(
            f"/v1/children/{child['id']}/guardians", json={"iin": "800101300014"}, headers=headers
        )
        stranger = auth(token("parent"))
        peek = await client.get(f"/v1/children/{child['id']}/guardians", headers=stranger)
        steal = await client.post(f"/v1/children/{child['id']}/guardians", json={"iin": ADULT_IIN}, headers=stranger)
        second_sees = await client.get(f"/v1/children/{child['id']}", headers=auth(token("parent", second["id"])))
        unlinked = await client.delete(f"/v1/children/{child['id']}/guardians/{second['id']}", headers=headers)
        last = await client.delete(f"/v1/children/{child['id']}/guardians/{session['subject']}", headers=headers)
        export = await client.get("/v1/me/export", headers=headers)
    assert child["flags"] == ["declared_sex_mismatch"]
    assert other_child.status_code in (201, 422)
    assert child["id"] in [c["id"] for c in listed.json()["items"]] and listed.json()["total"] >= 1
    assert linked.status_code == 201 and linked.json()["guardian_id"] == second["id"]
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "iin"
    assert peek.status_code == steal.status_code == 404
    assert second_sees.status_code == 200
    assert unlinked.status_code == 204 and last.status_code == 409
    assert CHILD_IIN not in export.text and export.json()["children"][0]["id"] == child["id"]
    events = await scalar(
        registry_db, "select string_agg(event_type, ',' order by id) from outbox where msg_key = '" + child["id"] + "'"
    )
    assert events == (
        "registry.ChildRegistered,registry.GuardianshipEstablished,"
        "registry.GuardianshipEstablished,registry.GuardianshipEnded"
    )


async def test_codes_expire_allow_five_tries_and_requests_are_rate_limited(registry_db, api_client):
    async with api_client("registry", registry_db, otp_requests_per_iin=2) as client:
        await register_person(client)
        challenge = (await client.post("/v1/auth/otp/request", json={"iin": ADULT_IIN})).json()["challenge_id"]
        code = await sent_code(client)
        wrong = "000000" if code != "000000" else "111111"
        tries = [
            (await client.post("/v1/auth/otp/verify", json={"challenge_id": challenge, "code": wrong})).status_code
            for _ in range(5)
        ]
        right_after_five = await client.post("/v1/auth/otp/verify", json={"challenge_id": challenge, "code": code})
        second = (await client.post("/v1/auth/otp/request", json={"iin": ADULT_IIN})).json()["challenge_id"]
        second_code = await sent_code(client)
        await execute(registry_db, "update otp_challenge set expires_at = now() - interval '1 second'")
        expired = await client.post("/v1/auth/otp/verify", json={"challenge_id": second, "code": second_code})
        limited = await client.post("/v1/auth/otp/request", json={"iin": ADULT_IIN})
        unknown = await client.post("/v1/auth/otp/request", json={"iin": SECOND_ADULT_IIN})
    assert tries == [401] * 5 and right_after_five.status_code == 401
    assert expired.status_code == 401
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert unknown.status_code == 202  # the same answer for a person who is not registered
    hashes = str(await scalar(registry_db, "select string_agg(encode(code_hash, 'hex'), ',') from otp_challenge"))
    assert code not in hashes and len(hashes.split(",")) == 2


async def test_refresh_tokens_rotate_and_reuse_or_logout_revokes(registry_db, api_client):
    async with api_client("registry", registry_db) as client:
        await register_person(client)
        session = await login(client)
        rotated = await client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
        reused = await client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
        after_theft = await client.post("/v1/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]})
        fresh = await login(client)
        out = await client.post("/v1/auth/logout", json={"refresh_token": fresh["refresh_token"]})
        after_logout = await client.post("/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
        me = await client.get("/v1/me", headers=auth(rotated.json()["access_token"]))
    assert rotated.status_code == 200 and rotated.json()["refresh_token"] != session["refresh_token"]
    assert reused.status_code == 401 and after_theft.status_code == 401
    assert out.status_code == 204 and after_logout.status_code == 401
    assert me.status_code == 200 and me.json()["iin_masked"] == "********0017"


async def test_administrator_creates_staff_who_log_in_with_password_and_totp(registry_db, api_client, token):
    async with api_client("registry", registry_db) as client:
        body = {"username": "aigul.op", "role": "operator", "scope": {"region": "astana"}}
        created = await client.post("/v1/staff", json=body, headers=auth(token("administrator")))
        taken = await client.post("/v1/staff", json=body, headers=auth(token("administrator")))
        by_operator = await client.post(
            "/v1/staff", json={**body, "username": "x.y"}, headers=auth(token("operator", scope=ASTANA))
        )
        regionless = await client.post(
            "/v1/staff", json={**body, "username": "no.region", "scope": {}}, headers=auth(token("administrator"))
        )
        staff = created.json()
        totp = pyotp.TOTP(staff["totp_secret"]).now()
        ok = await client.post(
            "/v1/auth/staff/login", json={"username": "aigul.op", "password": staff["one_time_password"], "totp": totp}
        )
        bad_password = await client.post(
            "/v1/auth/staff/login", json={"username": "aigul.op", "password": "nope", "totp": totp}
        )
        bad_totp = await client.post(
            "/v1/auth/staff/login",
            json={
                "username": "aigul.op",
                "password": staff["one_time_password"],
                "totp": "000000" if totp != "000000" else "111111",
            },
        )
        pending = await client.get("/v1/review/categories", headers=auth(ok.json()["access_token"]))
    assert created.status_code == 201 and taken.status_code == 409 and by_operator.status_code == 403
    assert regionless.status_code == 422 and regionless.json()["errors"][0]["field"] == "scope.region"
    assert ok.status_code == 200 and ok.json()["role"] == "operator"
    assert bad_password.status_code == bad_totp.status_code == 401
    assert pending.status_code == 200
    assert "$argon2" in str(await scalar(registry_db, "select password_hash from staff where username = 'aigul.op'"))


async def test_an_administrator_changes_a_staff_accounts_scope_and_role_audited(registry_db, api_client, token):
    admin_id = str(uuid.uuid4())
    admin = auth(token("administrator", admin_id))
    async with api_client("registry", registry_db) as client:
        body = {"username": "dana.op", "role": "operator", "scope": {"region": "astana", "district": "yesil"}}
        created = (await client.post("/v1/staff", json=body, headers=admin)).json()
        totp = pyotp.TOTP(created["totp_secret"]).now()
        login = {"username": "dana.op", "password": created["one_time_password"], "totp": totp}
        session = (await client.post("/v1/auth/staff/login", json=login)).json()
        url = f"/v1/staff/{created['id']}"
        foreign = {
            "operator": auth(token("operator", scope=ASTANA)),
            "provider_staff": auth(token("provider_staff", scope={"provider": str(uuid.uuid4())})),
            "parent": auth(token("parent")),
            "auditor": auth(token("auditor")),
        }
        refused = {
            role: (await client.patch(url, json={"scope": {"region": "almaty"}}, headers=headers)).status_code
            for role, headers in foreign.items()
        }
        listed_by_operator = await client.get("/v1/staff", headers=foreign["operator"])
        regionless = await client.patch(url, json={"scope": {}}, headers=admin)
        bad_role = await client.patch(url, json={"role": "root", "scope": {}}, headers=admin)
        missing_scope = await client.patch(url, json={"role": "auditor"}, headers=admin)
        unknown = await client.patch(f"/v1/staff/{uuid.uuid4()}", json={"scope": {"region": "almaty"}}, headers=admin)
        own = await client.patch(f"/v1/staff/{admin_id}", json={"scope": {}}, headers=admin)
        moved = await client.patch(url, json={"scope": {"region": "almaty"}}, headers=admin)
        after_move = await scalar(registry_db, f"select scope::text from staff where id = '{created['id']}'")
        spent = await client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
        promoted = await client.patch(url, json={"role": "auditor", "scope": {}}, headers=admin)
        listed = await client.get("/v1/staff", headers=admin)
    assert refused == {"operator": 403, "provider_staff": 403, "parent": 403, "auditor": 403}
    assert listed_by_operator.status_code == 403
    assert regionless.status_code == 422 and regionless.json()["errors"][0]["field"] == "scope.region"
    assert bad_role.status_code == 422 and bad_role.json()["errors"][0]["field"] == "role"
    assert missing_scope.status_code == 422 and missing_scope.json()["errors"][0]["field"] == "scope"
    assert regionless.headers["content-type"].startswith("application/problem+json")
    assert unknown.status_code == 404 and own.status_code == 409
    assert moved.status_code == 200, moved.text
    assert moved.json() == {
        "id": created["id"],
        "username": "dana.op",
        "role": "operator",
        "scope": {"region": "almaty"},
        "active": True,
    }
    assert after_move == '{"region": "almaty"}'
    assert spent.status_code == 401  # the old session carried Astana: the next sign-in carries Almaty
    assert promoted.status_code == 200 and promoted.json()["role"] == "auditor"
    assert {"username": "dana.op", "role": "auditor", "scope": {}} in [
        {k: a[k] for k in ("username", "role", "scope")} for a in listed.json()["items"]
    ]
    changes = await scalar(
        registry_db,
        f"select count(*) from audit_log where action = 'role.changed' and entity_id = '{created['id']}' "
        f"and actor = 'administrator:{admin_id}' and data->>'previous_role' in ('operator')",
    )
    assert changes == 2


async def test_categories_need_evidence_and_only_verified_ones_are_published(registry_db, api_client, token, tmp_path):
    async with api_client("registry", registry_db, evidence_dir=tmp_path) as client:
        headers = await parent_headers(client, token)
        child = (
            await client.post(
                "/v1/children",
                json={"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"},
                headers=headers,
            )
        ).json()
        url = f"/v1/children/{child['id']}/categories"
        not_a_document = await client.post(
            url, data={"code": "orphan"}, files={"file": ("a.pdf", b"MZ\x90\x00", "application/pdf")}, headers=headers
        )
        unknown_code = await client.post(
            url, data={"code": "pilot"}, files={"file": ("a.pdf", PDF, "application/pdf")}, headers=headers
        )
        too_big = await client.post(
            url,
            data={"code": "orphan"},
            files={"file": ("a.pdf", PDF + b"0" * (5 * 1024 * 1024), "application/pdf")},
            headers=headers,
        )
        by_stranger = await client.post(
            url,
            data={"code": "orphan"},
            files={"file": ("a.pdf", PDF, "application/pdf")},
            headers=auth(token("parent")),
        )
        declared = await client.post(
            url, data={"code": "orphan"}, files={"file": ("a.pdf", PDF, "application/pdf")}, headers=headers
        )
        claim = declared.json()["id"]
        other_region = await client.post(
            f"/v1/categories/{claim}/verify", json={}, headers=auth(token("operator", scope={"region": "almaty"}))
        )
        by_parent = await client.post(f"/v1/categories/{claim}/verify", json={}, headers=headers)
        verified = await client.post(
            f"/v1/categories/{claim}/verify",
            json={"valid_until": "2027-06-30"},
            headers=auth(token("operator", scope={"region": "astana"})),
        )
        listed = await client.get(url, headers=headers)
    assert not_a_document.status_code == 422 and not_a_document.json()["errors"][0]["type"] == "evidence_type"
    assert unknown_code.status_code == 422 and unknown_code.json()["errors"][0]["field"] == "code"
    assert too_big.status_code in (413, 422)
    assert by_stranger.status_code == 404 and other_region.status_code == 404 and by_parent.status_code == 403
    assert declared.status_code == 201 and verified.status_code == 200
    assert listed.json()["items"][0]["status"] == "verified" and listed.json()["total"] == 1
    stored = list(tmp_path.iterdir())
    assert len(stored) == 1 and b"%PDF" not in stored[0].read_bytes()
    payload = await scalar(
        registry_db, "select payload::text from outbox where event_type = 'registry.ChildCategoriesVerified'"
    )
    assert '"code": "orphan"' in str(payload) and "2027-06-30" in str(payload)
    assert await scalar(registry_db, "select count(*) from evidence") == 1


def test_dates_used_by_these_tests_are_what_the_iins_say() -> None:
    assert date(1990, 1, 1) < date(2006, 12, 11)


async def test_operator_assisted_registration_applies_only_after_the_parents_code(registry_db, api_client, token):
    operator_id = str(uuid.uuid4())
    operator = auth(token("operator", operator_id, scope={"region": "astana"}))
    body = {"parent_iin": ADULT_IIN, "iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"}
    async with api_client("registry", registry_db) as client:
        parent = await register_person(client)
        started = await client.post("/v1/assisted/children", json=body, headers=operator)
        other_region = await client.post(
            "/v1/assisted/children", json=body, headers=auth(token("operator", scope={"region": "almaty"}))
        )
        code = client._transport.app.state.registry.sms.sent[-1][1].split()[2].rstrip(".")
        change = started.json()["change_id"]
        before = await scalar(registry_db, "select count(*) from child")
        by_other_operator = await client.post(
            f"/v1/assisted/{change}/confirm", json={"code": code}, headers=auth(token("operator", scope=ASTANA))
        )
        wrong = await client.post(
            f"/v1/assisted/{change}/confirm",
            json={"code": "000000" if code != "000000" else "111111"},
            headers=operator,
        )
        confirmed = await client.post(f"/v1/assisted/{change}/confirm", json={"code": code}, headers=operator)
        parent_sees = await client.get(
            f"/v1/children/{confirmed.json()['id']}", headers=auth(token("parent", parent["id"]))
        )
    assert started.status_code == 202 and before == 0
    assert other_region.status_code == 422 and other_region.json()["errors"][0]["field"] == "region_code"
    assert by_other_operator.status_code == 404
    # a wrong code is the form's field, not the operator's session (a 401 would sign the operator's frontend out)
    assert wrong.status_code == 422 and wrong.json()["errors"][0] | {"message": ""} == {
        "field": "code",
        "type": "code_invalid",
        "message": "",
    }
    assert confirmed.status_code == 200 and parent_sees.status_code == 200
    assert (
        await scalar(
            registry_db,
            f"select acting_for from audit_log where action = 'child.registered' and actor = 'operator:{operator_id}'",
        )
        == parent["id"]
    )
    assert await scalar(registry_db, "select count(*) from assisted_change where applied_at is not null") == 1
    sealed = await scalar(registry_db, "select encode(sealed_payload, 'escape') from assisted_change")
    assert CHILD_IIN not in str(sealed)


async def test_state_registry_stand_in_confirms_a_declared_category(registry_db, api_client, token, tmp_path):
    registry_file = tmp_path / "state-registry.json"
    registry_file.write_text('{"' + CHILD_IIN + '": {"orphan": "2028-01-31"}}')
    async with api_client(
        "registry", registry_db, evidence_dir=tmp_path / "evidence", state_registry_file=registry_file
    ) as client:
        headers = await parent_headers(client, token)
        child = (
            await client.post(
                "/v1/children",
                json={"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"},
                headers=headers,
            )
        ).json()
        claim = (
            await client.post(
                f"/v1/children/{child['id']}/categories",
                data={"code": "orphan"},
                files={"file": ("scan.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")},
                headers=headers,
            )
        ).json()["id"]
        checked = await client.post(f"/v1/categories/{claim}/check", headers=auth(token("operator", scope=ASTANA)))
    assert checked.status_code == 200, checked.text
    assert checked.json()["confirmed"] is True and checked.json()["valid_until"] == "2028-01-31"


async def test_partners_get_tokens_with_client_credentials_and_keys_rotate(registry_db, api_client, token, tmp_path):
    admin = auth(token("administrator"))
    async with api_client("registry", registry_db, keys_dir=tmp_path) as client:
        account = (await client.post("/v1/service-accounts", json={"name": "social-services"}, headers=admin)).json()
        grant = {"grant_type": "client_credentials", "client_id": account["client_id"]}
        issued = await client.post("/v1/auth/token", data={**grant, "client_secret": account["client_secret"]})
        wrong = await client.post("/v1/auth/token", data={**grant, "client_secret": "not-the-secret"})
        before = (await client.get("/.well-known/jwks.json")).json()["keys"]
        rotated = await client.post("/v1/auth/keys/rotate", headers=admin)
        after = (await client.get("/.well-known/jwks.json")).json()["keys"]
        again = await client.post("/v1/auth/token", data={**grant, "client_secret": account["client_secret"]})
    import jwt

    assert issued.status_code == 200 and wrong.status_code == 401
    assert jwt.decode(issued.json()["access_token"], options={"verify_signature": False})["role"] == "partner"
    assert len(before) == 1 and len(after) == 2 and after[0]["kid"] == rotated.json()["kid"]
    assert jwt.get_unverified_header(again.json()["access_token"])["kid"] == rotated.json()["kid"]


async def test_an_operator_scoped_to_a_district_acts_only_there(registry_db, api_client, token, tmp_path):
    """scope.district narrows a region-scoped operator: another district's claims are hidden and 404; the queue
    names each claim's child by its masked IIN."""
    elsewhere = auth(token("operator", scope={"region": "astana", "district": "nura"}))
    here = auth(token("operator", scope={"region": "astana", "district": "yesil"}))
    async with api_client("registry", registry_db, evidence_dir=tmp_path) as client:
        headers = await parent_headers(client, token)
        child = (
            await client.post(
                "/v1/children",
                json={"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"},
                headers=headers,
            )
        ).json()
        claim = (
            await client.post(
                f"/v1/children/{child['id']}/categories",
                data={"code": "orphan"},
                files={"file": ("a.pdf", PDF, "application/pdf")},
                headers=headers,
            )
        ).json()["id"]
        hidden = await client.get("/v1/review/categories", headers=elsewhere)
        refused = await client.post(f"/v1/categories/{claim}/verify", json={}, headers=elsewhere)
        rejected = await client.post(f"/v1/categories/{claim}/reject", json={}, headers=elsewhere)
        checked = await client.post(f"/v1/categories/{claim}/check", headers=elsewhere)
        assisted = await client.post(
            "/v1/assisted/children",
            json={"parent_iin": ADULT_IIN, "iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"},
            headers=elsewhere,
        )
        still_declared = await client.get(f"/v1/children/{child['id']}/categories", headers=headers)
        shown = await client.get("/v1/review/categories", headers=here)
        verified = await client.post(f"/v1/categories/{claim}/verify", json={}, headers=here)
    assert (
        hidden.json()["items"] == []
        and hidden.json()["total"] == 0
        and refused.status_code == rejected.status_code == checked.status_code == 404
    )
    assert assisted.status_code == 422 and assisted.json()["errors"][0]["field"] == "district_code"
    assert still_declared.json()["items"][0]["status"] == "declared"
    assert [c["id"] for c in shown.json()["items"]] == [claim] and verified.status_code == 200
    assert shown.json()["items"][0]["child_iin_masked"] == "********" + CHILD_IIN[-4:]  # who, for the operator
    assert (
        await scalar(registry_db, "select count(*) from outbox where event_type = 'registry.ChildCategoriesVerified'")
        == 1
    )
