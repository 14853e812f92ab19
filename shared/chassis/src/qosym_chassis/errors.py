"""RFC 9457 problem+json for every error; validation errors name the field.

Error bodies never echo the submitted value (it may be an IIN) and a 500 never shows a stack trace:
it carries the trace id so operators can find the cause in the logs.

Logs never carry personal data either: an unexpected error is logged as its type, the route and the
trace id, with the stack frames but without the exception's message (SQLAlchemy's and asyncpg's messages
quote the statement's parameters: complaint text, names, an IIN's ciphertext). A database "data
exception" (SQLSTATE class 22: a NUL byte, a number or date out of the column's range, text too long)
and asyncpg's own refusal to encode a parameter are the client's input, so they become a 422
problem+json, not a 500; validation up front (``qosym_chassis.inputs``) should have caught them first.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("qosym.errors")


class Problem(Exception):
    status = 400
    title = "Bad request"
    type = "about:blank"

    def __init__(self, detail: str, *, errors: list[dict[str, str]] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra


class Unauthorized(Problem):
    status, title, type = 401, "Unauthorized", "unauthorized"


class Forbidden(Problem):
    status, title, type = 403, "Forbidden", "forbidden"


class NotFound(Problem):
    status, title, type = 404, "Not found", "not-found"


class Conflict(Problem):
    status, title, type = 409, "Conflict", "conflict"


class Unprocessable(Problem):
    status, title, type = 422, "Unprocessable content", "validation-failed"


class TooManyRequests(Problem):
    """A limit was reached; ``retry_after_s`` becomes the Retry-After header."""

    status, title, type = 429, "Too many requests", "rate-limited"

    def __init__(self, detail: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class Unavailable(Problem):
    """A dependency (the database, a gateway) cannot serve right now; the client may retry."""

    status, title, type = 503, "Service unavailable", "unavailable"


class BadGateway(Problem):
    """An external system the use case depends on (a state registry) did not answer."""

    status, title, type = 502, "Bad gateway", "upstream-unavailable"


class FieldError(Unprocessable):
    """A business-rule failure attached to one field, shaped like a validation error."""

    def __init__(self, field: str, message: str, *, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}", errors=[{"field": field, "message": message, "type": code}])


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    type_: str = "about:blank",
    instance: str | None = None,
    retry_after_s: int | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if retry_after_s is not None:
        headers["Retry-After"] = str(retry_after_s)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_SAFE_PART = re.compile(r"^(\[key\]|[A-Za-z_][A-Za-z0-9_-]{0,63}|[0-9]{1,9})$")


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    # a map's keys are data (and may be hostile): a location part that is not a plain name shows as "*"
    parts = [str(p) if _SAFE_PART.match(str(p)) else "*" for p in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] or parts
    return ".".join(parts)


def validation_errors(exc: RequestValidationError | ValidationError) -> list[dict[str, str]]:
    return [
        {
            "field": _field_name(err.get("loc", ())),
            "message": str(err.get("msg", "")),
            "type": str(err.get("type")),
        }
        for err in exc.errors()
    ]


def add_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            type_=exc.type,
            instance=request.url.path,
            errors=exc.errors,
            retry_after_s=getattr(exc, "retry_after_s", None),
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return problem_response(
            422,
            "Unprocessable content",
            f"invalid input: {fields}",
            type_="validation-failed",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, _title(exc.status_code), str(exc.detail), instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_error_response(exc, request.method, request.url.path)


def _trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_client_data_error(exc: BaseException) -> bool:
    """A database refusal of the value itself (SQLSTATE class 22, or asyncpg's client-side encoding)."""
    for link in _chain(exc):
        sqlstate = getattr(link, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith("22"):
            return True
        module = type(link).__module__
        if module.startswith("asyncpg") and type(link).__name__ == "DataError":
            return True
        if isinstance(link, (UnicodeEncodeError, OverflowError)):
            return True
    return False


OVERLOAD_SQLSTATES = frozenset({"53300", "57P03"})
"""too many connections; the database is starting or shutting down: the client may retry, nothing was done"""


def is_database_overload(exc: BaseException) -> bool:
    """The database could not take the request at all (no connection slot, the pool's wait ran out, starting)."""
    for link in _chain(exc):
        if getattr(link, "sqlstate", None) in OVERLOAD_SQLSTATES:
            return True
        if type(link).__module__.startswith("sqlalchemy") and type(link).__name__ == "TimeoutError":
            return True  # sqlalchemy.exc.TimeoutError: the pool's overflow was exhausted for pool_timeout
    return False


def log_safely(exc: BaseException, method: str, path: str) -> None:
    """The exception's type chain and stack frames, never its message (it may quote SQL parameters)."""
    types = " <- ".join(f"{type(e).__module__}.{type(e).__qualname__}" for e in _chain(exc))
    frames = "".join(traceback.format_tb(exc.__traceback__)[-12:])
    log.error(
        "unhandled %s on %s %s (trace %s)\n%s",
        types,
        method,
        path,
        _trace_id(),
        frames,
    )


def unexpected_error_response(exc: BaseException, method: str, path: str) -> JSONResponse:
    if is_client_data_error(exc):
        log.warning("database refused a value on %s %s: %s", method, path, type(exc).__qualname__)
        return problem_response(
            422,
            "Unprocessable content",
            "a value is out of range or contains characters that cannot be stored",
            type_="validation-failed",
            instance=path,
            errors=[{"field": "body", "message": "a value cannot be stored", "type": "value_error"}],
        )
    if is_database_overload(exc):
        log.warning("database overloaded on %s %s: %s (answered 503)", method, path, type(exc).__qualname__)
        return problem_response(
            503,
            "Service unavailable",
            "the service is busy; retry in a moment (nothing was changed)",
            type_="unavailable",
            instance=path,
            retry_after_s=1,
            trace_id=_trace_id(),
        )
    log_safely(exc, method, path)
    return problem_response(
        500,
        "Internal server error",
        "something went wrong on our side; quote the trace id when reporting it",
        type_="internal-error",
        trace_id=_trace_id(),
    )


class SafeErrorsMiddleware:
    """Outermost: turns any exception that escaped the routes into problem+json and stops it there, so the
    ASGI server never logs it (uvicorn would log the full message, with the SQL parameters)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:
                log_safely(exc, str(scope.get("method")), str(scope.get("path")))
                return
            response = unexpected_error_response(exc, str(scope.get("method")), str(scope.get("path")))
            await response(scope, receive, send)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details; a validation failure names each field in errors",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "trace_id": {"type": ["string", "null"]},
        "errors": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}
# what any operation may answer besides its own success: every one of them is problem+json
DOCUMENTED_ERRORS: dict[str, str] = {
    "400": "Bad request",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "Not found",
    "409": "Conflict",
    "413": "Content too large",
    "422": "Unprocessable content (each invalid field named)",
    "429": "Too many requests",
    "500": "Internal server error (with a trace id)",
    "503": "Service unavailable",
}


PROBLEM_REF = "#/components/schemas/Problem"
BODY_METHODS = frozenset({"post", "put", "patch"})


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    int(code): {"description": description, "content": _problem_content()}
    for code, description in DOCUMENTED_ERRORS.items()
}
"""The one shared ``responses=`` map of every service app (``FastAPI(responses=...)``): each error an operation
may answer, as problem+json with the one Problem schema. Declaring 422 here also keeps FastAPI from adding its own
``HTTPValidationError`` (``{detail: [...]}``), which is not what the API answers (see ``add_problem_handlers``)."""


def _local_times(node: Any) -> None:
    """pydantic documents a ``datetime.time`` as ``format: time``, which JSON Schema defines as RFC 3339
    full-time (with an offset); every time in these APIs is a local wall-clock time without one (RFC 3339
    partial-time), so that is what the document says (a validator then accepts what the API returns)."""
    if isinstance(node, dict):
        if node.get("format") == "time" and node.get("type") == "string":
            node["format"] = "partial-time"
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)


def problems_in(document: dict[str, Any]) -> dict[str, Any]:
    """Every operation of an OpenAPI document lists the errors above as application/problem+json (the shared
    Problem schema, 413 only where a body is taken); a route's own ``responses={404: {}}`` keeps its code but
    gets the same content, and FastAPI's ``HTTPValidationError`` is gone from the document."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if method not in BODY_METHODS:
                responses.pop("413", None)
            for code, description in DOCUMENTED_ERRORS.items():
                if code == "413" and method not in BODY_METHODS:
                    continue
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if code[:1] in ("4", "5"):
                    if not response.get("description"):
                        response["description"] = DOCUMENTED_ERRORS.get(code) or (
                            _title(int(code)) if code.isdigit() else "Error"
                        )
                    response["content"] = _problem_content()
    _local_times(document)
    return document


def document_problems(app: FastAPI) -> None:
    """Every operation of the app's OpenAPI document lists its errors as application/problem+json
    (``problems_in``, applied once when the document is first built)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if getattr(app.state, "problems_documented", False) and app.openapi_schema:
            return app.openapi_schema
        document = problems_in(generate())
        app.openapi_schema = document
        app.state.problems_documented = True
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI documents replacing app.openapi this way
