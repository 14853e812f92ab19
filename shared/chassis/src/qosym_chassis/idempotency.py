"""Honour an ``Idempotency-Key`` header on an authenticated POST.

The first request with a key runs; its response (any status below 500) is stored in the service's own
database and replayed for every retry by the same caller with the same key and the same body. The same key
with a different body is refused (422); a retry while the first is still running gets 409. A 5xx is not
stored, so a retry runs again; business unique keys behind each endpoint keep that safe.

Who takes part:
- only a caller with a verified bearer token; a record belongs to that caller (role and subject) and is
  never replayed to anyone else. Anonymous requests (and requests with a bad token) run as if the header
  were absent: nothing identifies an anonymous caller that another client could not send as well.
- never a route marked ``openapi_extra=NOT_STORED``: every route that answers with a token or a one-time
  secret (logins, refresh, client credentials, a new staff account's password and TOTP seed, a service
  account's secret, a stream ticket). Such a response must not sit in a table.

Records expire after ``QOSYM_IDEMPOTENCY_TTL_S`` (24 hours by default): an expired record is never replayed
(the key runs again) and is deleted, on its next claim or by ``prune``, which each service's consumers process
runs every ``QOSYM_IDEMPOTENCY_PRUNE_INTERVAL_S``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

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
DEFAULT_TTL = timedelta(hours=24)
MARKER = "x-qosym-idempotency"
NOT_STORED: dict[str, Any] = {MARKER: "never-stored"}
"""``openapi_extra`` of a route whose response must never be stored (tokens, one-time secrets)."""


IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Any client-chosen string (1 to 255 characters), e.g. a UUID: a retry with the same key and body replays "
        "the first answer to the same caller instead of running again; the same key with another body is a 422, "
        "a retry while the first runs a 409. Kept for 24 hours."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "example": "5f0c6a0e-8a4b-4c1e-9d7e-2b1f3c4d5e6f",
}


def honours_key(method: str, operation: dict[str, Any]) -> bool:
    """Whether the middleware honours ``Idempotency-Key`` on this operation: an authenticated POST that is not
    marked ``NOT_STORED`` (an anonymous caller takes no part)."""
    return method == "post" and bool(operation.get("security")) and operation.get(MARKER) != NOT_STORED[MARKER]


def document_idempotency_key(document: dict[str, Any]) -> dict[str, Any]:
    """The ``Idempotency-Key`` header parameter on every operation where the middleware honours it."""
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or not honours_key(method, operation):
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("in") == "header" and p.get("name", "").lower() == HEADER.lower() for p in parameters):
                parameters.append(dict(IDEMPOTENCY_KEY_PARAMETER))
    return document


def _never_stored_paths(app: Any) -> list[re.Pattern[str]]:
    """The POST paths whose operation carries the marker, as patterns (read once from the OpenAPI document)."""
    patterns: list[re.Pattern[str]] = []
    for path, operations in app.openapi().get("paths", {}).items():
        if (operations.get("post") or {}).get(MARKER) == NOT_STORED[MARKER]:
            patterns.append(re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"))
    return patterns


async def _principal_of(request: Request) -> str | None:
    """``role:subject`` of a verified bearer token; None for anonymous callers and bad tokens."""
    authorization = request.headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        return None
    try:
        principal = await request.app.state.jwt_verifier.verify(authorization[7:])
    except Problem:
        return None
    return f"{principal.role}:{principal.subject}"


async def prune(engine: AsyncEngine, ttl: timedelta = DEFAULT_TTL) -> int:
    """Delete every expired record; the number deleted."""
    async with engine.begin() as conn:
        result = await conn.execute(delete(IDEMPOTENCY).where(IDEMPOTENCY.c.created_at < datetime.now(UTC) - ttl))
    return int(result.rowcount or 0)


class IdempotencyMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, engine: AsyncEngine, ttl: timedelta = DEFAULT_TTL) -> None:
        super().__init__(app)
        self._engine = engine
        self._ttl = ttl
        self._never_stored: list[re.Pattern[str]] | None = None

    def _opts_out(self, request: Request) -> bool:
        if self._never_stored is None:
            self._never_stored = _never_stored_paths(request.app)
        return any(pattern.match(request.url.path) for pattern in self._never_stored)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return await call_next(request)
        if not 1 <= len(key) <= 255:
            return problem_response(422, "Unprocessable content", f"{HEADER} must be 1 to 255 characters")
        if self._opts_out(request):
            return await call_next(request)
        principal = await _principal_of(request)
        if principal is None:
            return await call_next(request)
        body = await request.body()
        digest = hashlib.sha256(request.method.encode() + request.url.path.encode() + b"\n" + body).hexdigest()
        where = and_(IDEMPOTENCY.c.principal == principal, IDEMPOTENCY.c.key == key)

        async with self._engine.begin() as conn:
            now = datetime.now(UTC)
            await conn.execute(delete(IDEMPOTENCY).where(where, IDEMPOTENCY.c.created_at < now - self._ttl))
            claimed = (
                await conn.execute(
                    insert(IDEMPOTENCY)
                    .values(
                        principal=principal,
                        key=key,
                        method=request.method,
                        path=request.url.path,
                        request_hash=digest,
                        created_at=now,
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
                if now - row["created_at"] < STALE_AFTER:
                    return problem_response(
                        409,
                        "Conflict",
                        "a request with this Idempotency-Key is in progress",
                        type_="idempotency-in-progress",
                    )
                await conn.execute(update(IDEMPOTENCY).where(where).values(created_at=now))

        response = await call_next(request)
        content = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]  # call_next returns a streaming response, typed as Response
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
