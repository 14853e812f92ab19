"""Catalog's component databases start with the regions the tests place providers in, as allocation's
RegionConfigured would have projected them (revision 0, so any delivered revision is newer)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

KNOWN_REGIONS = {"astana": ["yesil", "nura"], "almaty": ["medeu", "bostandyq"], "cache_test": ["yesil"]}


@pytest.fixture
def service_db(service_db: Callable[[str], Awaitable[str]]) -> Callable[[str], Awaitable[str]]:
    async def make(service: str) -> str:
        url = await service_db(service)
        if service == "catalog":
            conn = await asyncpg.connect(url)
            try:
                await conn.executemany(
                    "INSERT INTO region (code, revision, timezone, districts) VALUES ($1, 0, 'Asia/Almaty', $2::jsonb)",
                    [(code, json.dumps(districts)) for code, districts in KNOWN_REGIONS.items()],
                )
            finally:
                await conn.close()
        return url

    return make
