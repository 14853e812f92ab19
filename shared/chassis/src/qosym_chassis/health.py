"""/health/live and /health/ready: ready means database, broker and Redis answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.utils import suppress_instrumentation
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Check = Callable[[], Awaitable[None]]


def database_check(engine: AsyncEngine) -> Check:
    async def check() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return check


def broker_check(broker: KafkaBroker) -> Check:
    async def check() -> None:
        if not await broker.ping(timeout=2.0):
            raise ConnectionError("broker did not answer")

    return check


def redis_check(redis: Redis) -> Check:
    async def check() -> None:
        await redis.ping()

    return check


async def run_checks(checks: dict[str, Check], timeout_s: float = 3.0) -> tuple[bool, dict[str, str]]:
    async def one(check: Check) -> str:
        try:
            await asyncio.wait_for(check(), timeout=timeout_s)
        except Exception as exc:
            return f"down: {type(exc).__name__}"
        return "ok"

    names = list(checks)
    with suppress_instrumentation():  # a probe every few seconds is not a trace (nor a root span in every process)
        results = await asyncio.gather(*(one(checks[name]) for name in names))
    report = dict(zip(names, results, strict=True))
    return all(value == "ok" for value in results), report


def health_routes(
    checks: Callable[[], dict[str, Check]], extra: Callable[[], dict[str, Any]] | None = None
) -> list[Route]:
    async def live(_: Request) -> Response:
        return JSONResponse({"status": "live"})

    async def ready(_: Request) -> Response:
        ok, report = await run_checks(checks())
        body: dict[str, Any] = {"status": "ready" if ok else "not ready", "checks": report}
        if extra is not None:
            body.update(extra())
        return JSONResponse(body, status_code=200 if ok else 503)

    return [Route("/health/live", live, methods=["GET"]), Route("/health/ready", ready, methods=["GET"])]
