"""HTTP that rides through faults: every POST carries an ``Idempotency-Key`` (the chassis replays the stored answer
to a retry, so a request whose answer was lost to a killed process or a reset connection is never applied twice),
and a failed connection or a 5xx is sent again until a deadline. A 4xx is an answer, never retried."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRY_FOR_S = 240.0  # a process restarted on a loaded machine, or PostgreSQL coming back, can take a while


def _keyed(request: httpx.Request) -> None:
    if request.method == "POST" and "Idempotency-Key" not in request.headers:
        request.headers["Idempotency-Key"] = str(uuid.uuid4())


def _again(response: httpx.Response, body: bytes) -> bool:
    """A 5xx, or the 409 of a first attempt still marked running (one a killed process left: stale after 60 s)."""
    return response.status_code >= 500 or (response.status_code == 409 and b"idempotency-in-progress" in body)


@dataclass
class Retries:
    """How many requests were sent again, and why (reported per seed)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, why: str) -> None:
        self.counts[why] = self.counts.get(why, 0) + 1


class RetryTransport(httpx.BaseTransport):
    def __init__(self, retries: Retries, retry_for_s: float = RETRY_FOR_S) -> None:
        self._inner = httpx.HTTPTransport()
        self._retries = retries
        self._for = retry_for_s

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _keyed(request)
        deadline = time.monotonic() + self._for
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._inner.handle_request(request)
            except httpx.TransportError as error:
                if time.monotonic() > deadline:
                    raise
                self._retries.add(type(error).__name__)
                time.sleep(min(2.0, 0.2 * attempt))
                continue
            if not _again(response, response.read()) or time.monotonic() > deadline:
                return response
            response.close()
            self._retries.add(str(response.status_code))
            time.sleep(min(2.0, 0.2 * attempt))

    def close(self) -> None:
        self._inner.close()


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    def __init__(self, retries: Retries, retry_for_s: float = RETRY_FOR_S) -> None:
        self._inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=64))
        self._retries = retries
        self._for = retry_for_s

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _keyed(request)
        deadline = time.monotonic() + self._for
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._inner.handle_async_request(request)
            except httpx.TransportError as error:
                if time.monotonic() > deadline:
                    raise
                self._retries.add(type(error).__name__)
                await asyncio.sleep(min(2.0, 0.2 * attempt))
                continue
            if not _again(response, await response.aread()) or time.monotonic() > deadline:
                return response
            await response.aclose()
            self._retries.add(str(response.status_code))
            await asyncio.sleep(min(2.0, 0.2 * attempt))

    async def aclose(self) -> None:
        await self._inner.aclose()


def client(base_url: str, retries: Retries, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(base_url=base_url, transport=RetryTransport(retries), headers=headers, timeout=120.0)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] | None = None


def bulk(base_url: str, calls: Sequence[Call], retries: Retries, concurrency: int = 16) -> list[httpx.Response]:
    """Send every call (``concurrency`` at once), each retried through faults; the answers in call order."""

    async def run() -> list[httpx.Response]:
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(
            base_url=base_url, transport=AsyncRetryTransport(retries), timeout=120.0
        ) as session:

            async def one(call: Call) -> httpx.Response:
                async with gate:
                    return await session.request(
                        call.method, call.path, json=call.json, headers=call.headers, params=call.params
                    )

            return list(await asyncio.gather(*(one(call) for call in calls)))

    return asyncio.run(run())
