"""The FastAPI application every service builds its API on.

Versioned paths (/v1/...), problem+json errors, CORS from settings, Idempotency-Key on an authenticated POST (see ``idempotency``),
a 1 MiB body limit, health, Prometheus /metrics, native OpenTelemetry spans, offset paging.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi_pagination import add_pagination
from prometheus_client import make_asgi_app
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qosym_chassis import health
from qosym_chassis.audit_routes import audit_router
from qosym_chassis.auth import JwtVerifier
from qosym_chassis.context import ServiceContext, build_context
from qosym_chassis.errors import (
    PROBLEM_RESPONSES,
    SafeErrorsMiddleware,
    add_problem_handlers,
    document_problems,
    problem_response,
)
from qosym_chassis.idempotency import IdempotencyMiddleware, document_idempotency_key
from qosym_chassis.metrics import HTTP_LATENCY, registry
from qosym_chassis.settings import ServiceSettings

log = logging.getLogger("qosym.api")
ACCESS_LOG = logging.getLogger("qosym.access")
QUIET_PATHS = ("/health/", "/metrics")
MAX_BODY_BYTES = 1024 * 1024
Hook = Callable[[ServiceContext], Awaitable[None]]


class BodyLimitMiddleware:
    """At most ``max_bytes`` of request body; more is a 413 problem+json (Starlette's own limit answers
    text/plain). A declared Content-Length over the limit is refused before anything is read; a streamed
    body is counted as it arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        total = 0
        too_large = False
        started = False

        async def counting() -> Message:
            # over the limit the app sees a disconnect (no exception to be wrapped or reworded on its way
            # out); whatever it answers is dropped and the 413 goes out instead
            nonlocal total, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > self.max_bytes:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting, tracking)
        except Exception:
            if not too_large or started:
                raise
        if too_large and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            "Content too large",
            f"the request body is larger than {self.max_bytes} bytes",
            type_="content-too-large",
            instance=str(scope.get("path", "")),
        )
        await response(scope, receive, send)


def _has_control(text: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cs") for char in text)


class ControlCharactersMiddleware:
    """A path or query parameter with a control character (a NUL byte, ...) is a 422 naming the parameter,
    whatever the route declares: no parameter of any API legitimately holds one, and PostgreSQL refuses NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field = self._offending(scope)
            if field is not None:
                response = problem_response(
                    422,
                    "Unprocessable content",
                    f"invalid input: {field}",
                    type_="validation-failed",
                    instance=None,
                    errors=[{"field": field, "message": "control characters are not allowed", "type": "value_error"}],
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _offending(scope: Scope) -> str | None:
        if _has_control(str(scope.get("path", ""))):
            return "path"
        raw = scope.get("query_string", b"")
        if not raw:
            return None
        for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8"):
            if _has_control(key):
                return "query"
            if _has_control(value):
                return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", key) else "query"
        return None


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


def operation_id(route: APIRoute) -> str:
    """A readable operation id: the route function's name (``register_child``), not FastAPI's generated
    ``register_child_v1_children_post``; a service's route function names are unique
    (``tests/test_openapi_contract.py`` fails on a duplicate)."""
    return route.name


def document_conventions(app: FastAPI) -> None:
    """The OpenAPI document frontends read: every error as problem+json (``errors.document_problems``),
    and ``Idempotency-Key`` where the middleware honours it."""
    document_problems(app)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if getattr(app.state, "conventions_documented", False) and app.openapi_schema:
            return app.openapi_schema
        document = document_idempotency_key(generate())
        app.openapi_schema = document
        app.state.conventions_documented = True
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI documents replacing app.openapi this way


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
        telemetry={"tracer_provider": ctx.tracer_provider, "exclude": _not_traced},
        docs_url="/docs",
        openapi_url="/openapi.json",
        responses=PROBLEM_RESPONSES,
        generate_unique_id_function=operation_id,
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
        elapsed = time.perf_counter() - started
        path = getattr(request.scope.get("route"), "path", "unmatched")
        HTTP_LATENCY.labels(request.method, path, str(response.status_code)).observe(elapsed)
        # one access line per request, with the trace id (the filter adds it); probes and scrapes only at DEBUG
        ACCESS_LOG.log(
            logging.DEBUG if request.url.path.startswith(QUIET_PATHS) else logging.INFO,
            "%s %s %s",
            request.method,
            path,
            response.status_code,
            extra={
                "method": request.method,
                "route": path,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
            },
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
    if ctx.audit is not None:
        app.include_router(audit_router())
    add_pagination(app)
    document_conventions(app)
    # outermost last: the body limit, then the catch-all that keeps exception messages out of the server's log
    app.add_middleware(ControlCharactersMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(SafeErrorsMiddleware)
    return app
