from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import Column, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncEngine

from qosym_chassis.db import make_engine
from qosym_chassis.migrations import create_messaging_tables, create_parking_table, create_relay_tables

effect_metadata = MetaData()
effect = Table(
    "effect",
    effect_metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("note", Text, nullable=False),
)


@pytest.fixture
async def engine(stack_servers) -> AsyncIterator[AsyncEngine]:
    """A fresh database with the messaging tables and one 'effect' table a test handler writes to."""
    server = stack_servers.state.postgres_server_url
    name = f"chassis_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(server)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    made = make_engine(f"{server}/{name}", application_name="chassis-test")
    async with made.begin() as connection:
        await connection.run_sync(create_messaging_tables)
        await connection.run_sync(create_parking_table)
        await connection.run_sync(create_relay_tables)
        await connection.run_sync(effect_metadata.create_all)
    yield made
    await made.dispose()
    conn = await asyncpg.connect(server)
    await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await conn.close()
