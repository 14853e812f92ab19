"""No service process runs as a database superuser: each connects as its own ``qosym_<service>_app`` role, which
holds DML on its own tables only; the relays publish signed audit heads outside the database."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

import asyncpg
import pytest

from qosym_cli.paths import SERVICES
from qosym_cli.stack import LocalStack
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


def test_every_service_connects_as_its_own_unprivileged_role(running_stack: LocalStack) -> None:
    async def inspect() -> dict[str, dict]:
        found = {}
        for service in SERVICES:
            conn = await asyncpg.connect(running_stack.state.database_urls[service].replace("+asyncpg", ""))
            try:
                me = await conn.fetchrow(
                    "SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb"
                    " FROM pg_roles WHERE rolname = current_user"
                )
                processes = await conn.fetch(
                    "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database()"
                    " AND application_name LIKE $1",
                    f"{service}-%",
                )
                try:
                    await conn.execute("CREATE TABLE intruder (id int)")
                    created = True
                except asyncpg.InsufficientPrivilegeError:
                    created = False
                other = next(s for s in SERVICES if s != service)
                try:
                    theirs = await asyncpg.connect(
                        running_stack.state.database_urls[service].replace("+asyncpg", "").rsplit("/", 1)[0]
                        + f"/qosym_{other}"
                    )
                    await theirs.close()
                    reached_other = True
                except asyncpg.InsufficientPrivilegeError:
                    reached_other = False
            finally:
                await conn.close()
            found[service] = {
                "role": me["name"],
                "privileged": me["rolsuper"] or me["rolcreaterole"] or me["rolcreatedb"],
                "process_roles": {row["usename"] for row in processes},
                "created_table": created,
                "reached_other_database": reached_other,
            }
        return found

    async def superuser_without_password() -> bool:
        server = urlsplit(running_stack.state.postgres_server_url or "")
        try:
            conn = await asyncpg.connect(f"postgresql://postgres@{server.hostname}:{server.port}/postgres")
        except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError):
            return False
        except asyncpg.PostgresError as error:  # e.g. "password authentication failed" variants
            return "password" not in str(error)
        await conn.close()
        return True

    found = asyncio.run(inspect())
    if "postgres" in running_stack.state.processes:  # the embedded server asks every TCP login for its password
        assert asyncio.run(superuser_without_password()) is False
    for service, seen in found.items():
        assert seen["role"] == f"qosym_{service}_app", (service, seen)
        assert seen["privileged"] is False, (service, seen)
        assert seen["process_roles"] == {f"qosym_{service}_app"}, (service, seen)
        assert seen["created_table"] is False and seen["reached_other_database"] is False, (service, seen)


def test_the_relays_publish_signed_heads_and_the_cli_verifies_every_trail(running_stack: LocalStack) -> None:
    heads = running_stack.home / "audit-heads"
    eventually(lambda: all(list((heads / s).glob("head-*.json")) for s in ("registry", "payments")), timeout_s=60)
    published = subprocess.run(
        [sys.executable, "-m", "qosym_cli.main", "audit", "head", "--home", str(running_stack.home)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "300"},
    )
    verified = subprocess.run(
        [sys.executable, "-m", "qosym_cli.main", "audit", "verify", "--home", str(running_stack.home)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "300"},
    )
    newest = max((heads / "registry").glob("head-*.json"))
    assert published.returncode == 0, published.stdout + published.stderr
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "registry: audit trail intact" in verified.stdout and "payments: audit trail intact" in verified.stdout
    assert set(json.loads(newest.read_text())) == {"payload", "signature"}
