"""Short-lived, single-use stream tickets: a browser's EventSource cannot send an Authorization header.

A ticket is bought with the bearer token and names the same principal; only its SHA-256 is a Redis key, so a
Redis dump holds no usable ticket. Opening the stream consumes it (GETDEL).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

from qosym_chassis.auth import Principal


@dataclass(frozen=True)
class StreamTickets:
    redis: Redis
    ttl_s: int = 60
    prefix: str = "notifications:stream-ticket"

    def _key(self, ticket: str) -> str:
        return f"{self.prefix}:{hashlib.sha256(ticket.encode()).hexdigest()}"

    async def issue(self, principal: Principal) -> str:
        ticket = secrets.token_urlsafe(32)
        value = json.dumps({"subject": principal.subject, "role": principal.role, "scope": principal.scope})
        await self.redis.set(self._key(ticket), value, ex=self.ttl_s)
        return ticket

    async def redeem(self, ticket: str) -> Principal | None:
        raw = await self.redis.getdel(self._key(ticket))
        if raw is None:
            return None
        data = json.loads(raw)
        return Principal(subject=data["subject"], role=data["role"], scope=dict(data["scope"]))
