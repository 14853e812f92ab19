"""One database per service, created if missing, then each service's own migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from qosym_chassis import roles
from qosym_cli.config import database_name
from qosym_cli.errors import StackError
from qosym_cli.processes import tail


class DatabaseError(StackError):
    """A database could not be created or migrated; the message says why."""


async def ensure_databases(server_url: str, services: list[str], passwords: dict[str, str]) -> list[str]:
    """Create ``qosym_<service>`` on the server for each service, owned by ``qosym_<service>_owner``, with the
    roles (``passwords``: role name -> password); return the names of the databases created now."""
    try:
        conn = await asyncpg.connect(f"{server_url}/postgres", timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        raise DatabaseError(f"cannot connect to PostgreSQL at {_redact(server_url)}: {error}") from error
    created: list[str] = []
    try:
        existing = {row["datname"] for row in await conn.fetch("SELECT datname FROM pg_database")}
        for service in services:
            name = database_name(service)
            await ensure_service_roles(conn, service, passwords)
            if name not in existing:
                await conn.execute(f'CREATE DATABASE "{name}" OWNER {roles.owner_role(service)}')
                created.append(name)
            await restrict_database(conn, name, service)
            await adopt_objects(f"{server_url}/{name}", service)
    finally:
        await conn.close()
    return created


async def ensure_service_roles(conn: asyncpg.Connection, service: str, passwords: dict[str, str]) -> None:
    """Create or reset the owner and app roles of one service (as a superuser or a CREATEROLE role)."""
    for role in (roles.owner_role(service), roles.app_role(service)):
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
        await conn.execute(roles.ensure_role_sql(role, passwords[role], existing=bool(exists)))


async def restrict_database(conn: asyncpg.Connection, name: str, service: str) -> None:
    """The database belongs to the owner role; only the service's two roles may connect to it."""
    owner, app = roles.owner_role(service), roles.app_role(service)
    await conn.execute(f'ALTER DATABASE "{name}" OWNER TO {owner}')
    await conn.execute(f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC')
    await conn.execute(f'GRANT CONNECT, TEMPORARY ON DATABASE "{name}" TO {app}')


async def adopt_objects(database_url: str, service: str) -> None:
    """As a superuser inside the database: the owner role owns the schema and everything in it."""
    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        for statement in roles.adopt_sql(roles.owner_role(service)):
            await conn.execute(statement)
    finally:
        await conn.close()


MIGRATE_TIMEOUT_S = float(os.environ.get("QOSYM_MIGRATE_TIMEOUT_S", "900"))
"""a migration is a few statements, but on a machine whose cores other work holds it can take minutes"""


def migrate(service: str, url: str, log: Path, app_role: str | None = None) -> None:
    """Run ``python -m <service> migrate`` against the service's database (as its owner role), granting
    ``app_role`` what the service processes need."""
    env = {**os.environ, "QOSYM_SERVICE_NAME": service, "QOSYM_DATABASE_URL": url}
    env.pop("QOSYM_MIGRATION_DATABASE_URL", None)
    if app_role:
        env["QOSYM_DATABASE_APP_ROLE"] = app_role
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        try:
            result = subprocess.run(
                [sys.executable, "-m", service, "migrate"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=MIGRATE_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise DatabaseError(
                f"migrations of {service} did not finish within {MIGRATE_TIMEOUT_S:.0f} s (a loaded machine: set "
                f"QOSYM_MIGRATE_TIMEOUT_S). Last lines of {log}:\n{tail(log, 15)}"
            ) from None
    if result.returncode != 0:
        raise DatabaseError(
            f"migrations of {service} failed (exit {result.returncode}). Last lines of {log}:\n{tail(log, 15)}"
        )


def _redact(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
