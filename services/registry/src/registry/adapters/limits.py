"""Login rate limits and lockouts in Redis: fixed-window counters shared by every api process.

Keys (``registry.domain.login_limits``) name the account by a hash (never a username or IIN in clear) and the client
address as seen by the server (proxy headers only from ``QOSYM_TRUSTED_PROXIES``).

Redis down (docs/reliability.md, "Redis down"): logins and code requests must keep working, never answer a 500. While
Redis cannot be reached the limiter counts in this process's memory with the same keys, limits and windows (each api
process then limits on its own, so a client spread over N processes gets at most N times the limit). It logs once
when it degrades and once when Redis answers again, and counts every degraded operation in
``qosym_registry_limiter_degraded_total``. The in-memory counters are dropped when Redis is back: Redis's counters
are the shared truth again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from qosym_chassis.metrics import registry as metrics_registry
from registry.domain.login_limits import over_limit

log = logging.getLogger(__name__)
T = TypeVar("T")
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
DEGRADED = Counter(
    "qosym_registry_limiter_degraded",
    "limiter operations answered from process memory because Redis was unreachable",
    registry=metrics_registry,
)


@dataclass
class MemoryCounters:
    """Fixed-window counters in one process: a key's window starts at its first count and lasts its ttl."""

    now: Callable[[], float] = time.monotonic
    _counts: dict[str, tuple[int, float]] = field(default_factory=dict)

    def _live(self, key: str) -> tuple[int, float] | None:
        entry = self._counts.get(key)
        if entry is not None and entry[1] <= self.now():
            del self._counts[key]
            return None
        return entry

    def incr(self, key: str, window_s: int) -> int:
        entry = self._live(key)
        count, expires = (entry[0] + 1, entry[1]) if entry else (1, self.now() + window_s)
        self._counts[key] = (count, expires)
        return count

    def get(self, key: str) -> int | None:
        entry = self._live(key)
        return entry[0] if entry else None

    def ttl(self, key: str) -> int:
        entry = self._live(key)
        return max(int(entry[1] - self.now()), 1) if entry else 1

    def delete(self, key: str) -> None:
        self._counts.pop(key, None)

    def clear(self) -> None:
        self._counts.clear()


class Limiter:
    def __init__(self, redis: Redis, memory: MemoryCounters | None = None) -> None:
        self._redis = redis
        self._memory = memory or MemoryCounters()
        self.degraded = False

    async def _shared(self, operation: Callable[[], Awaitable[T]], fallback: Callable[[], T]) -> T:
        """Redis's answer, or the in-memory one while Redis is unreachable (logged once per outage)."""
        try:
            result = await operation()
        except UNREACHABLE as error:
            if not self.degraded:
                self.degraded = True
                log.warning("redis unreachable (%s): login limits are counted per process until it is back", error)
            DEGRADED.inc()
            return fallback()
        if self.degraded:
            self.degraded = False
            self._memory.clear()
            log.warning("redis reachable again: login limits are shared again")
        return result

    async def over(self, key: str, limit: int, window_s: int) -> int | None:
        """Count one more try in the window: the seconds to wait when over the limit, else None."""

        async def shared() -> int | None:
            count = await self._redis.incr(key)
            if count == 1:
                await self._redis.expire(key, window_s)
            if not over_limit(count, limit):
                return None
            return max(int(await self._redis.ttl(key)), 1)

        def local() -> int | None:
            count = self._memory.incr(key, window_s)
            return self._memory.ttl(key) if over_limit(count, limit) else None

        return await self._shared(shared, local)

    async def failures(self, key: str) -> tuple[int, int]:
        """The failed tries recorded under ``key`` and the seconds left of their window (at least 1)."""

        async def shared() -> tuple[int, int]:
            value = await self._redis.get(key)
            if value is None:
                return 0, 0
            return int(value), max(int(await self._redis.ttl(key)), 1)

        def local() -> tuple[int, int]:
            value = self._memory.get(key)
            return (0, 0) if value is None else (value, self._memory.ttl(key))

        return await self._shared(shared, local)

    async def failed(self, key: str, lockout_s: int) -> None:
        """One more failure; the lockout window starts at the first and lasts ``lockout_s``."""

        async def shared() -> None:
            if await self._redis.incr(key) == 1:
                await self._redis.expire(key, lockout_s)

        def local() -> None:
            self._memory.incr(key, lockout_s)

        await self._shared(shared, local)

    async def succeeded(self, key: str) -> None:
        async def shared() -> None:
            await self._redis.delete(key)

        await self._shared(shared, lambda: self._memory.delete(key))
