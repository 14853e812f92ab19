"""One database per service, created if missing, then each service's own migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from qosym_cli.config import database_name
from qosym_cli.errors import StackError
from qosym_cli.processes import tail


class DatabaseError(StackError):
    """A database could not be created or migrated; the message says why."""


async def ensure_databases(server_url: str, services: list[str]) -> list[str]:
    """Create ``qosym_<service>`` on the server for each service; return the names created now."""
    try:
        conn = await asyncpg.connect(f"{server_url}/postgres", timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        raise DatabaseError(f"cannot connect to PostgreSQL at {_redact(server_url)}: {error}") from error
    created: list[str] = []
    try:
        existing = {row["datname"] for row in await conn.fetch("SELECT datname FROM pg_database")}
        for service in services:
            name = database_name(service)
            if name not in existing:
                await conn.execute(f'CREATE DATABASE "{name}"')
                created.append(name)
    finally:
        await conn.close()
    return created


def migrate(service: str, url: str, log: Path) -> None:
    """Run ``python -m <service> migrate`` against the service's database."""
    env = {**os.environ, "QOSYM_SERVICE_NAME": service, "QOSYM_DATABASE_URL": url}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        result = subprocess.run(
            [sys.executable, "-m", service, "migrate"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=180,
        )
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
