"""Helpers for each service's Alembic environment and first revision."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, MetaData, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from qosym_chassis.db import asyncpg_url
from qosym_chassis.roles import app_grants_sql
from qosym_chassis.tables import define_messaging_tables


def create_messaging_tables(bind: Connection) -> None:
    for table in define_messaging_tables(MetaData()).all():
        table.create(bind)


def drop_messaging_tables(bind: Connection) -> None:
    for table in reversed(define_messaging_tables(MetaData()).all()):
        table.drop(bind)


def create_parking_table(bind: Connection) -> None:
    """The chassis' parked events (docs/architecture.md, "Delivery", Parking): each service's own revision."""
    define_messaging_tables(MetaData()).parked_event.create(bind)


def drop_parking_table(bind: Connection) -> None:
    define_messaging_tables(MetaData()).parked_event.drop(bind)


def create_relay_tables(bind: Connection) -> None:
    """The relay's lease with its fencing token and its outgoing dead letters (qosym_chassis.outbox): each
    service's own revision."""
    tables = define_messaging_tables(MetaData())
    tables.relay_lease.create(bind)
    tables.outbox_refused.create(bind)


def drop_relay_tables(bind: Connection) -> None:
    tables = define_messaging_tables(MetaData())
    tables.outbox_refused.drop(bind)
    tables.relay_lease.drop(bind)


def run_env(database_url: str, target_metadata: MetaData, configure: Callable[..., None]) -> None:
    """Body of a service's migrations/env.py for online async migrations."""

    def do_run(connection: Connection) -> None:
        configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        from alembic import context

        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(asyncpg_url(database_url), poolclass=pool.NullPool, hide_parameters=True)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run())


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(migrations_dir: Path, database_url: str, revision: str = "head", *, app_role: str | None = None) -> None:
    """Migrate (as the database's owner role); then grant ``app_role`` DML on the tables (qosym_chassis.roles)."""
    command.upgrade(alembic_config(migrations_dir, database_url), revision)
    if app_role:
        grant_app_role(database_url, app_role)


def grant_app_role(database_url: str, app_role: str) -> None:
    async def run() -> None:
        engine = create_async_engine(asyncpg_url(database_url), poolclass=pool.NullPool)
        async with engine.begin() as connection:
            for statement in app_grants_sql(app_role):
                await connection.execute(text(statement))
        await engine.dispose()

    asyncio.run(run())


def downgrade(migrations_dir: Path, database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(migrations_dir, database_url), revision)
