"""Conversations' migrations go up, all the way down and up again (tests/migrations/test_stairway.py, for conversations)."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest

from qosym_chassis.cli import migrations_dir
from qosym_chassis.migrations import downgrade, upgrade

pytestmark = pytest.mark.component


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        return {
            row["tablename"] for row in await conn.fetch("select tablename from pg_tables where schemaname = 'public'")
        }
    finally:
        await conn.close()


async def test_upgrade_downgrade_upgrade(stack_servers) -> None:
    server = stack_servers.state.postgres_server_url
    name = f"stairway_conversations_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlsplit(server)._replace(path=f"/{name}").geturl()
    try:
        folder = migrations_dir("conversations")
        await asyncio.to_thread(upgrade, folder, url)
        migrated = await _tables(url)
        assert {
            "outbox",
            "inbox",
            "dead_letter",
            "idempotency_key",
            "thread",
            "message",
            "attachment",
            "receipt",
            "guardianship",
            "subject",
        } <= migrated
        await asyncio.to_thread(downgrade, folder, url, "base")
        assert await _tables(url) == {"alembic_version"}
        await asyncio.to_thread(upgrade, folder, url)
        assert await _tables(url) == migrated
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def test_the_migrated_schema_is_the_tables_the_code_uses(service_db, superuser_url) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    from conversations.adapters.orm import metadata
    from qosym_chassis.db import asyncpg_url

    url = await service_db("conversations")
    engine = create_async_engine(asyncpg_url(superuser_url(url)))
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
            )
    finally:
        await engine.dispose()
    ours = set(metadata.tables)
    # the messaging tables are the chassis' (not in conversations' metadata); every other difference is a drift
    drift = [d for d in diff if not (d[0] == "remove_table" and d[1].name not in ours)]
    drift = [d for d in drift if not (d[0] == "remove_index" and d[1].table.name not in ours)]
    assert drift == []
