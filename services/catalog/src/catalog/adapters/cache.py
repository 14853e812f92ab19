"""The public programme search cache in Redis, invalidated by bumping a version key.

Every cached page lives under the current version; a programme or seat change increments the version,
so older pages are simply never read again (they expire by TTL). Redis being down only means no cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from redis.asyncio import Redis

log = logging.getLogger("catalog.cache")


def namespace_of(database_url: str) -> str:
    """Keys are namespaced by the database they mirror, so two deployments can share one Redis."""
    return hashlib.sha256(database_url.encode()).hexdigest()[:12]


class SearchCache:
    def __init__(self, redis: Redis, namespace: str, ttl_s: int = 30) -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._prefix = f"catalog:search:{namespace}"
        self._version_key = f"{self._prefix}:version"

    async def _version(self) -> str:
        value = await self._redis.get(self._version_key)
        return value.decode() if isinstance(value, bytes) else str(value or 0)

    def _key(self, version: str, params: dict[str, Any]) -> str:
        digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
        return f"{self._prefix}:{version}:{digest}"

    async def get(self, params: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
        try:
            version = await self._version()
            raw = await self._redis.get(self._key(version, params))
        except Exception as exc:  # a cache outage must never fail a search
            log.warning("search cache unavailable: %s", exc)
            return None, None
        return version, (json.loads(raw) if raw else None)

    async def put(self, version: str | None, params: dict[str, Any], page: dict[str, Any]) -> None:
        if version is None:
            return
        try:
            await self._redis.set(self._key(version, params), json.dumps(page, default=str), ex=self._ttl_s)
        except Exception as exc:
            log.warning("search cache unavailable: %s", exc)

    async def invalidate(self) -> None:
        try:
            await self._redis.incr(self._version_key)
        except Exception as exc:
            log.warning("search cache not invalidated (entries expire by TTL): %s", exc)
