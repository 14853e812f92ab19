"""The FastAPI application every service builds its API on.

Versioned paths (/v1/...), problem+json errors, CORS from settings, Idempotency-Key on an authenticated POST (see ``idempotency``),
a 1 MiB body limit, health, Prometheus /metrics, native OpenTelemetry spans, offset paging.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi_pagination import add_pagination
from prometheus_client import make_asgi_app
from starlette.types import Scope

from qosym_chassis import health
from qosym_chassis.auth import JwtVerifier
from qosym_chassis.context import ServiceContext, build_context
from qosym_chassis.errors import add_problem_handlers
from qosym_chassis.idempotency import IdempotencyMiddleware
from qosym_chassis.metrics import HTTP_LATENCY, registry
from qosym_chassis.settings import ServiceSettings

log = logging.getLogger("qosym.api")
MAX_BODY_BYTES = 1024 * 1024
Hook = Callable[[ServiceContext], Awaitable[None]]


def _not_traced(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    return path.startswith("/health") or path.startswith("/metrics")


async def _connect_broker(context: ServiceContext) -> None:
    delay = 0.5
    while True:
        try:
            await context.broker.connect()
            return
        except Exception as exc:
            log.warning("broker not reachable yet: %s", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    on_startup: Sequence[Hook] = (),
    context: ServiceContext | None = None,
) -> FastAPI:
    ctx = context or build_context(settings, "api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        connecting = asyncio.create_task(_connect_broker(ctx))
        for hook in on_startup:
            await hook(ctx)
        try:
            yield
        finally:
            connecting.cancel()
            await ctx.close()

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
        telemetry={"tracer_provider": ctx.tracer_provider, "exclude": _not_traced},
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.context = ctx
    app.state.settings = settings
    app.state.jwt_verifier = JwtVerifier(
        settings.jwks_url, issuer=settings.jwt_issuer, audience=settings.jwt_audience, leeway_s=settings.jwt_leeway_s
    )

    add_problem_handlers(app)
    app.add_middleware(IdempotencyMiddleware, engine=ctx.engine, ttl=timedelta(seconds=settings.idempotency_ttl_s))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            allow_credentials=True,
        )

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        HTTP_LATENCY.labels(request.method, getattr(route, "path", "unmatched"), str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response

    def checks() -> dict[str, health.Check]:
        return {
            "database": health.database_check(ctx.engine),
            "broker": health.broker_check(ctx.broker),
            "redis": health.redis_check(ctx.redis),
        }

    for route in health.health_routes(checks):
        app.router.routes.append(route)
    app.mount("/metrics", make_asgi_app(registry))
    for router in routers:
        app.include_router(router)
    add_pagination(app)
    return app
