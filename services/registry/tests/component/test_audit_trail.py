"""The audit trail, attacked as someone with the database (even its superuser) but not the service's keys would:
every rewrite is caught by ``GET /v1/audit/verify`` and by ``qosym audit verify`` (exit 1, naming what broke).
And the service's own database role cannot rewrite it at all."""

from __future__ import annotations

import json
import secrets
import warnings
from pathlib import Path

import asyncpg
import pyotp
import pytest
from typer.testing import CliRunner

from qosym_chassis.audit import row_mac
from qosym_cli import audit_cmds
from qosym_cli.main import app as cli

from .test_children_api import CHILD_IIN
from .test_people_and_identity import ADULT_IIN, SECOND_ADULT_IIN, auth, register_person
from .test_people_and_identity import registry_db as registry_db

pytestmark = pytest.mark.component

with warnings.catch_warnings():  # starlette would rather have httpx2; its TestClient is what the CLI's client needs
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient


@pytest.fixture(autouse=True)
def one_chain(monkeypatch) -> None:
    """These attacks address rows by seq, so the trail here is one chain (``QOSYM_AUDIT_CHAINS=1``); a trail of
    several chains is attacked, chain by chain, in the chassis's own tests (``test_audit_chains.py``)."""
    monkeypatch.setenv("QOSYM_AUDIT_CHAINS", "1")


@pytest.fixture
async def trail_db(registry_db) -> str:
    """A registry database that knows the astana region, with no rate-limit counters left by earlier tests."""
    return registry_db


async def some_history(client, token) -> int:
    """People, a child and a staff account: a handful of rows on the trail; returns how many."""
    first = await register_person(client, ADULT_IIN)
    await register_person(client, SECOND_ADULT_IIN)
    created = await client.post(
        "/v1/children",
        json={"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"},
        headers=auth(token("parent", first["id"])),
    )
    assert created.status_code == 201, created.text
    staff = await client.post(
        "/v1/staff",
        json={"username": "dana.audit", "role": "auditor", "scope": {}},
        headers=auth(token("administrator")),
    )
    assert staff.status_code == 201, staff.text
    verdict = await client.get("/v1/audit/verify", headers=auth(token("auditor")))
    assert verdict.json()["ok"] is True, verdict.json()
    return int(verdict.json()["rows"])


async def publish_head(client, token) -> dict:
    head = await client.post("/v1/audit/heads", headers=auth(token("auditor")))
    assert head.status_code == 201, head.text
    return head.json()


async def as_attacker(url: str, *statements: str) -> None:
    """The server's superuser: it may switch the append-only triggers off (the service's role may not)."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            for statement in statements:
                await conn.execute(statement)
            await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    finally:
        await conn.close()


async def rehash_from(url: str, seq: int) -> None:
    """Recompute every mac from ``seq`` on, as the attacker can: the algorithm is public, the key is not."""
    guessed_key = secrets.token_bytes(32)
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            rows = await conn.fetch("SELECT * FROM audit_log ORDER BY seq")
            prev = bytes(32)
            for raw in rows:
                row = dict(raw)
                row["data"] = json.loads(row["data"])
                if row["seq"] >= seq:
                    mac = row_mac(guessed_key, prev, row)
                    await conn.execute(
                        "UPDATE audit_log SET prev_mac = $1, mac = $2 WHERE id = $3", prev, mac, row["id"]
                    )
                    prev = mac
                else:
                    prev = bytes(row["mac"])
            await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    finally:
        await conn.close()


def cli_verify(monkeypatch, service_app, url: str, home: Path) -> tuple[int, str]:
    """``qosym audit verify --service registry`` against this test's registry (its HTTP client served in-process)."""
    monkeypatch.setattr(
        audit_cmds,
        "make_client",
        lambda base, token: TestClient(service_app("registry", url), headers={"Authorization": f"Bearer {token}"}),
    )
    result = CliRunner().invoke(
        cli, ["audit", "verify", "--service", "registry", "--url", "http://registry", "--home", str(home)]
    )
    return result.exit_code, " ".join(result.output.split())


async def test_an_intact_trail_verifies_with_its_signed_heads(
    trail_db, api_client, token, monkeypatch, service_app, stack_home
):
    async with api_client("registry", trail_db) as client:
        rows = await some_history(client, token)
        head = await publish_head(client, token)
        verdict = (await client.get("/v1/audit/verify", headers=auth(token("auditor")))).json()
        by_operator = await client.post("/v1/audit/heads", headers=auth(token("operator", scope={"region": "astana"})))
    exit_code, output = cli_verify(monkeypatch, service_app, trail_db, stack_home)
    assert head["last_seq"] == head["rows"] == rows and len(head["last_mac"]) == 64
    assert verdict["ok"] is True and verdict["heads_checked"] == 1 and verdict["latest_head_seq"] == rows
    assert by_operator.status_code == 403
    assert exit_code == 0 and "registry: audit trail intact" in output


async def test_editing_a_row_and_rehashing_the_rest_is_detected(
    trail_db, api_client, token, superuser_url, monkeypatch, service_app, stack_home
):
    async with api_client("registry", trail_db) as client:
        await some_history(client, token)
        await as_attacker(
            superuser_url(trail_db), """UPDATE audit_log SET data = '{"flags": ["forged"]}' WHERE seq = 3"""
        )
        await rehash_from(superuser_url(trail_db), 3)
        verdict = (await client.get("/v1/audit/verify", headers=auth(token("auditor")))).json()
    exit_code, output = cli_verify(monkeypatch, service_app, trail_db, stack_home)
    assert verdict["ok"] is False and verdict["first_broken_seq"] == 3 and "mac" in verdict["reason"]
    assert exit_code == 1 and "registry: audit trail broken at seq=3" in output and "mac" in output


async def test_deleting_the_last_rows_is_detected_by_the_signed_head(
    trail_db, api_client, token, superuser_url, monkeypatch, service_app, stack_home
):
    async with api_client("registry", trail_db) as client:
        rows = await some_history(client, token)
        await publish_head(client, token)
        await as_attacker(superuser_url(trail_db), f"DELETE FROM audit_log WHERE seq > {rows - 2}")
        verdict = (await client.get("/v1/audit/verify", headers=auth(token("auditor")))).json()
    exit_code, output = cli_verify(monkeypatch, service_app, trail_db, stack_home)
    assert verdict["ok"] is False and verdict["first_broken_seq"] == rows
    assert "rows were removed" in verdict["reason"] and f"the database holds {rows - 2}" in verdict["reason"]
    assert exit_code == 1 and "rows were removed" in output


async def test_deleting_renumbering_and_rehashing_everything_is_detected(
    trail_db, api_client, token, superuser_url, monkeypatch, service_app, stack_home
):
    async with api_client("registry", trail_db) as client:
        rows = await some_history(client, token)
        await publish_head(client, token)
        renumber = [f"UPDATE audit_log SET seq = {seq - 1} WHERE seq = {seq}" for seq in range(3, rows + 1)]
        await as_attacker(superuser_url(trail_db), "DELETE FROM audit_log WHERE seq = 2", *renumber)
        await rehash_from(superuser_url(trail_db), 1)
        verdict = (await client.get("/v1/audit/verify", headers=auth(token("auditor")))).json()
    exit_code, output = cli_verify(monkeypatch, service_app, trail_db, stack_home)
    assert verdict["ok"] is False and verdict["first_broken_seq"] == 1 and "mac" in verdict["reason"]
    assert exit_code == 1 and "registry: audit trail broken at seq=1" in output


async def test_truncating_with_the_trigger_disabled_is_detected(
    trail_db, api_client, token, superuser_url, monkeypatch, service_app, stack_home
):
    async with api_client("registry", trail_db) as client:
        rows = await some_history(client, token)
        await publish_head(client, token)
        await as_attacker(superuser_url(trail_db), "TRUNCATE audit_log")
        verdict = (await client.get("/v1/audit/verify", headers=auth(token("auditor")))).json()
    exit_code, output = cli_verify(monkeypatch, service_app, trail_db, stack_home)
    assert verdict["ok"] is False and verdict["rows"] == 0
    assert f"records {rows} rows" in verdict["reason"] and "the database holds 0" in verdict["reason"]
    assert exit_code == 1 and "rows were removed" in output


async def test_a_head_file_forged_or_edited_outside_the_database_is_detected(trail_db, api_client, token, stack_home):
    async with api_client("registry", trail_db) as client:
        await some_history(client, token)
        head = await publish_head(client, token)
        folder = stack_home / "audit-heads" / trail_db.rsplit("/", 1)[1] / "registry"
        path = folder / head["file"]
        document = json.loads(path.read_text())
        document["payload"]["rows"] = 1  # an attacker "agreeing" with a shorter trail
        path.write_text(json.dumps(document))
        verdict = (await client.get("/v1/audit/verify", headers=auth(token("auditor")))).json()
    assert verdict["ok"] is False and "invalid signature" in verdict["reason"]


async def test_the_service_role_cannot_rewrite_the_trail_nor_change_the_schema(trail_db, api_client, token):
    async with api_client("registry", trail_db) as client:
        await some_history(client, token)
    conn = await asyncpg.connect(trail_db)
    try:
        who = await conn.fetchrow(
            "SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls"
            " FROM pg_roles WHERE rolname = current_user"
        )
        refused = {}
        for statement in (
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
            "ALTER TABLE audit_log DISABLE TRIGGER USER",
            "UPDATE audit_log SET action = 'x' WHERE seq = 2",
            "DELETE FROM audit_log WHERE seq = 2",
            "TRUNCATE audit_log",
            "DROP TRIGGER audit_log_no_truncate ON audit_log",
            "CREATE TABLE shadow (id int)",
            "ALTER TABLE person ADD COLUMN note text",
            "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
        ):
            with pytest.raises(asyncpg.PostgresError) as error:
                await conn.execute(statement)
            refused[statement] = type(error.value).__name__
        count = await conn.fetchval("SELECT count(*) FROM audit_log")
    finally:
        await conn.close()
    assert who["name"] == "qosym_registry_app"
    assert not any((who["rolsuper"], who["rolcreaterole"], who["rolcreatedb"], who["rolbypassrls"]))
    assert set(refused.values()) == {"InsufficientPrivilegeError"}, refused
    assert count >= 5


async def test_staff_logins_and_accounts_go_on_the_trail_without_the_typed_username(trail_db, api_client, token):
    async with api_client("registry", trail_db) as client:
        created = await client.post(
            "/v1/staff",
            json={"username": "aigul.op", "role": "operator", "scope": {"region": "astana"}},
            headers=auth(token("administrator")),
        )
        staff = created.json()
        totp = pyotp.TOTP(staff["totp_secret"]).now()
        ok = await client.post(
            "/v1/auth/staff/login", json={"username": "aigul.op", "password": staff["one_time_password"], "totp": totp}
        )
        wrong = await client.post(
            "/v1/auth/staff/login", json={"username": "aigul.op", "password": "not-the-password", "totp": totp}
        )
        unknown = await client.post(
            "/v1/auth/staff/login", json={"username": "typed-secret-123", "password": "whatever-pass", "totp": "123456"}
        )
        verdict = (await client.get("/v1/audit/verify", headers=auth(token("auditor")))).json()
    conn = await asyncpg.connect(trail_db)
    try:
        rows = await conn.fetch("SELECT actor, action, entity_id, data::text AS data FROM audit_log ORDER BY id")
    finally:
        await conn.close()
    trail = [(r["action"], r["entity_id"], json.loads(r["data"]).get("reason")) for r in rows]
    assert created.status_code == 201 and ok.status_code == 200 and wrong.status_code == unknown.status_code == 401
    assert ("role.granted", staff["id"], None) in trail
    assert ("staff.login", staff["id"], None) in trail
    assert ("staff.login_failed", staff["id"], "wrong_credentials") in trail
    assert ("staff.login_failed", "unknown", "unknown_account") in trail
    assert next(r["actor"] for r in rows if r["action"] == "staff.login") == f"operator:{staff['id']}"
    assert not any("typed-secret-123" in r["data"] or "aigul.op" in r["data"] for r in rows)
    assert verdict["ok"] is True
