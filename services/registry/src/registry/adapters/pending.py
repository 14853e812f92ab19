"""Registrations waiting for their one-time code: in Redis, sealed, for the code's lifetime only.

Nothing of a pending registration is readable without the login-secrets key (the IIN and phone are inside the
AES-GCM box, bound to the registration id); the code is kept as an HMAC. A registration is taken once.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from registry.adapters.credentials import SecretBox


def _key(registration_id: UUID) -> str:
    return f"registry:registration:{registration_id}"


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


class CodeRefused(Exception):
    """Unknown, expired, already used or wrong code: one answer for all."""


class PendingUnavailable(Exception):
    """Redis cannot be reached: a pending registration can be neither kept nor taken (docs/reliability.md,
    "Redis down"); the client may retry."""


UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


@dataclass
class PendingRegistrations:
    redis: Redis
    box: SecretBox
    max_attempts: int

    async def put(self, registration_id: UUID, code: str, details: dict[str, Any], ttl_s: int) -> None:
        try:
            await self._put(registration_id, code, details, ttl_s)
        except UNREACHABLE as error:
            raise PendingUnavailable(str(error)) from error

    async def take(self, registration_id: UUID, code: str) -> dict[str, Any]:
        """The registration's details once the code matches (then it is gone); every wrong try counts."""
        try:
            return await self._take(registration_id, code)
        except UNREACHABLE as error:
            raise PendingUnavailable(str(error)) from error

    async def _put(self, registration_id: UUID, code: str, details: dict[str, Any], ttl_s: int) -> None:
        sealed = self.box.seal(json.dumps(details).encode(), context=f"registration:{registration_id}")
        key = _key(registration_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"sealed": sealed, "code": self.box.code_hash(str(registration_id), code)})
            pipe.expire(key, ttl_s)
            await pipe.execute()

    async def _take(self, registration_id: UUID, code: str) -> dict[str, Any]:
        key = _key(registration_id)
        stored = await self.redis.hgetall(key)
        if not stored:
            raise CodeRefused()
        if not hmac.compare_digest(_bytes(stored[b"code"]), self.box.code_hash(str(registration_id), code)):
            if await self.redis.hincrby(key, "attempts", 1) >= self.max_attempts:
                await self.redis.delete(key)
            raise CodeRefused()
        if await self.redis.delete(key) != 1:  # a concurrent confirmation took it first
            raise CodeRefused()
        opened = self.box.open(_bytes(stored[b"sealed"]), context=f"registration:{registration_id}")
        details: dict[str, Any] = json.loads(opened)
        return details
