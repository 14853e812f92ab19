"""Every service's migrations go up, all the way down, and up again (no forgotten downgrade)."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest

from qosym_chassis.cli import migrations_dir
from qosym_chassis.migrations import downgrade, upgrade
from qosym_cli.paths import SERVICES

pytestmark = pytest.mark.component


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("select tablename from pg_tables where schemaname = 'public'")
    finally:
        await conn.close()
    return {row["tablename"] for row in rows}


@pytest.mark.parametrize("service", SERVICES)
async def test_upgrade_downgrade_upgrade(service: str, stack_servers) -> None:
    server = stack_servers.state.postgres_server_url
    name = f"stairway_{service}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlsplit(server)._replace(path=f"/{name}").geturl()
    try:
        folder = migrations_dir(service)
        await asyncio.to_thread(upgrade, folder, url)
        migrated = await _tables(url)
        assert {"outbox", "inbox", "dead_letter", "idempotency_key"} <= migrated
        await asyncio.to_thread(downgrade, folder, url, "base")
        assert await _tables(url) == {"alembic_version"}
        await asyncio.to_thread(upgrade, folder, url)
        assert await _tables(url) == migrated
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
