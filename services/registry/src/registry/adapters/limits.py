"""Login rate limits and lockouts in Redis: fixed-window counters shared by every api process.

Keys name the account by a hash (never a username or IIN in clear) and the client address as seen by the
server (proxy headers only from ``QOSYM_TRUSTED_PROXIES``).
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis


def account_key(kind: str, name: str) -> str:
    return f"registry:{kind}:{hashlib.sha256(name.encode()).hexdigest()[:32]}"


class Limiter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def over(self, key: str, limit: int, window_s: int) -> int | None:
        """Count one more try in the window: the seconds to wait when over the limit, else None."""
        count = await self._redis.incr(key)
        if count == 1:
            await self._redis.expire(key, window_s)
        if count <= limit:
            return None
        return max(int(await self._redis.ttl(key)), 1)

    async def locked(self, key: str, failures: int) -> int | None:
        """The seconds left of a lockout once ``failures`` failed tries were recorded, else None."""
        value = await self._redis.get(key)
        if value is None or int(value) < failures:
            return None
        return max(int(await self._redis.ttl(key)), 1)

    async def failed(self, key: str, lockout_s: int) -> None:
        """One more failure; the lockout window starts at the first and lasts ``lockout_s``."""
        if await self._redis.incr(key) == 1:
            await self._redis.expire(key, lockout_s)

    async def succeeded(self, key: str) -> None:
        await self._redis.delete(key)
