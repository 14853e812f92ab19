"""Honour an ``Idempotency-Key`` header on every POST.

The first request with a key runs; its response (any status below 500) is stored in the service's
own database and replayed for every retry with the same key and the same body. The same key with a
different body is refused (422); a retry while the first is still running gets 409. Keys are scoped
to the caller (the verified token subject, or "anonymous"). A 5xx is not stored, so a retry runs again;
business unique keys behind each endpoint keep that safe.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from fastapi import Request
from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response
from starlette.types import ASGIApp

from qosym_chassis.errors import Problem, problem_response
from qosym_chassis.outbox import TABLES

IDEMPOTENCY = TABLES.idempotency_key
HEADER = "Idempotency-Key"
STALE_AFTER = timedelta(seconds=60)


async def _principal_of(request: Request) -> str:
    authorization = request.headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        return "anonymous"
    try:
        principal = await request.app.state.jwt_verifier.verify(authorization[7:])
    except Problem:
        return "invalid-token"
    return f"{principal.role}:{principal.subject}"


class IdempotencyMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, engine: AsyncEngine) -> None:
        super().__init__(app)
        self._engine = engine

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return await call_next(request)
        if not 1 <= len(key) <= 255:
            return problem_response(422, "Unprocessable content", f"{HEADER} must be 1 to 255 characters")
        principal = await _principal_of(request)
        if principal == "invalid-token":
            return await call_next(request)
        body = await request.body()
        digest = hashlib.sha256(request.method.encode() + request.url.path.encode() + b"\n" + body).hexdigest()
        where = and_(IDEMPOTENCY.c.principal == principal, IDEMPOTENCY.c.key == key)

        async with self._engine.begin() as conn:
            claimed = (
                await conn.execute(
                    insert(IDEMPOTENCY)
                    .values(
                        principal=principal,
                        key=key,
                        method=request.method,
                        path=request.url.path,
                        request_hash=digest,
                    )
                    .on_conflict_do_nothing()
                    .returning(IDEMPOTENCY.c.key)
                )
            ).first()
            if claimed is None:
                row = (await conn.execute(select(IDEMPOTENCY).where(where).with_for_update())).mappings().one()
                if row["request_hash"] != digest:
                    return problem_response(
                        422,
                        "Unprocessable content",
                        f"{HEADER} was already used for a different request",
                        type_="idempotency-key-reused",
                    )
                if row["completed_at"] is not None:
                    return Response(
                        row["response_body"],
                        status_code=row["status_code"],
                        media_type=row["content_type"],
                        headers={"Idempotent-Replayed": "true"},
                    )
                if datetime.now(UTC) - row["created_at"] < STALE_AFTER:
                    return problem_response(
                        409,
                        "Conflict",
                        "a request with this Idempotency-Key is in progress",
                        type_="idempotency-in-progress",
                    )
                await conn.execute(update(IDEMPOTENCY).where(where).values(created_at=datetime.now(UTC)))

        response = await call_next(request)
        content = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
        async with self._engine.begin() as conn:
            if response.status_code >= 500:
                await conn.execute(delete(IDEMPOTENCY).where(where))
            else:
                await conn.execute(
                    update(IDEMPOTENCY)
                    .where(where)
                    .values(
                        status_code=response.status_code,
                        response_body=content,
                        content_type=response.headers.get("content-type"),
                        completed_at=datetime.now(UTC),
                    )
                )
        return Response(content, status_code=response.status_code, headers=dict(response.headers))
