"""Login rate limits and lockouts in Redis: fixed-window counters shared by every api process.

Keys (``registry.domain.login_limits``) name the account by a hash (never a username or IIN in clear) and the client address as seen by the
server (proxy headers only from ``QOSYM_TRUSTED_PROXIES``).
"""

from __future__ import annotations

from redis.asyncio import Redis

from registry.domain.login_limits import over_limit


class Limiter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def over(self, key: str, limit: int, window_s: int) -> int | None:
        """Count one more try in the window: the seconds to wait when over the limit, else None."""
        count = await self._redis.incr(key)
        if count == 1:
            await self._redis.expire(key, window_s)
        if not over_limit(count, limit):
            return None
        return max(int(await self._redis.ttl(key)), 1)

    async def failures(self, key: str) -> tuple[int, int]:
        """The failed tries recorded under ``key`` and the seconds left of their window (at least 1)."""
        value = await self._redis.get(key)
        if value is None:
            return 0, 0
        return int(value), max(int(await self._redis.ttl(key)), 1)

    async def failed(self, key: str, lockout_s: int) -> None:
        """One more failure; the lockout window starts at the first and lasts ``lockout_s``."""
        if await self._redis.incr(key) == 1:
            await self._redis.expire(key, lockout_s)

    async def succeeded(self, key: str) -> None:
        await self._redis.delete(key)
