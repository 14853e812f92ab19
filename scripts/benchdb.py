"""What the benchmark scripts share: a PostgreSQL server (yours, or a throwaway embedded one) and a scratch
database migrated for one service, dropped afterwards, and a line describing the machine."""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from qosym_chassis.cli import migrations_dir
from qosym_chassis.migrations import upgrade
from qosym_cli import servers
from qosym_cli.ports import free_port


def on_postgres(server_url: str | None, job: Callable[[str], Coroutine[Any, Any, None]]) -> None:
    """Run ``job(server_url)`` on the given server, or on an embedded PostgreSQL started (and removed) for it."""
    if server_url:
        asyncio.run(job(server_url))
        return
    home = Path(tempfile.mkdtemp(prefix="qosym-bench-"))
    port = free_port(set())
    try:
        servers.start_postgres(home, port)
        asyncio.run(job(servers.postgres_server_url(port, home)))
    finally:
        servers.stop_postgres(home)
        shutil.rmtree(home, ignore_errors=True)


@asynccontextmanager
async def scratch_database(server_url: str, service: str) -> AsyncIterator[str]:
    """A new database with the service's migrations applied; its URL while the block runs, dropped after."""
    name = f"bench_{service}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"{server_url.rstrip('/')}/{name}"
    try:
        await asyncio.to_thread(upgrade, migrations_dir(service), url)
        yield url
    finally:
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def machine() -> str:
    return f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
