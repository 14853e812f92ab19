"""The portal's ASGI application: routers of each area, static files, health, errors as pages, cookies."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal.adapters.api_client import ApiProblem, NotSignedIn, ServiceUnavailable
from portal.adapters.session import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    Session,
    SessionCodec,
    load_or_create_key,
)
from portal.config import PortalSettings
from portal.entrypoints import admin_routes, auth_routes, parent_routes, provider_routes
from portal.entrypoints.pages import CsrfRejected, Page

STATIC = Path(__file__).resolve().parents[1] / "static"
log = logging.getLogger("qosym.portal")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(settings: PortalSettings | None = None, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """The portal; ``transport`` replaces the network under the API client (tests of the pages' own behaviour)."""
    settings = settings or PortalSettings()
    codec = SessionCodec(load_or_create_key(settings.keys_dir, settings.session_key))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(follow_redirects=False, transport=transport) as http:
            app.state.http = http
            yield

    app = FastAPI(title="Qosym portal", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.codec = codec

    def session_of(request: Request) -> Session | None:
        return codec.load(request.cookies.get(SESSION_COOKIE))

    app.state.session_of = session_of

    @app.middleware("http")
    async def cookies_and_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        page: Page | None = getattr(request.state, "page", None)
        if page is not None:
            write_cookies(response, page, settings)
        response.headers.update(SECURITY_HEADERS)
        if request.url.path.startswith(("/parent", "/provider", "/admin", "/login", "/staff")):
            response.headers["Cache-Control"] = "no-store"
        return response

    for router in (auth_routes.router, parent_routes.router, provider_routes.router, admin_routes.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/health/live", include_in_schema=False)
    async def live() -> JSONResponse:
        return JSONResponse({"status": "live"})

    @app.get("/health/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        return JSONResponse({"status": "ready", "checks": {}})  # no database, no broker: a frontend is ready at once

    add_error_pages(app)
    return app


def write_cookies(response: Response, page: Page, settings: PortalSettings) -> None:
    secure = settings.secure_cookies
    if page.new_csrf:
        response.set_cookie(
            CSRF_COOKIE, page.csrf_token, httponly=True, samesite="strict", secure=secure, max_age=SESSION_MAX_AGE_S
        )
    if page.session_changed:
        if page.session is None:
            response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=secure)
        else:
            response.set_cookie(
                SESSION_COOKIE,
                page.codec.dump(page.session),
                httponly=True,
                samesite="strict",
                secure=secure,
                max_age=SESSION_MAX_AGE_S,
            )


def add_error_pages(app: FastAPI) -> None:
    def page_for(request: Request) -> Page:
        existing: Page | None = getattr(request.state, "page", None)
        return existing if existing is not None else Page(request)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _: NotSignedIn) -> Response:
        page = page_for(request)
        if page.session is not None:
            page.sign_out()
        staff = request.url.path.startswith(("/admin", "/provider"))
        return RedirectResponse("/staff/login" if staff else "/login", status_code=303)  # cookies: the middleware

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, error: ServiceUnavailable) -> Response:
        log.warning("service unavailable: %s (%s)", error.service, request.url.path)
        return page_for(request).render("errors/unavailable.html", status_code=503, service=error.service)

    @app.exception_handler(ApiProblem)
    async def problem(request: Request, error: ApiProblem) -> Response:
        """A problem no form handled (a page that only reads): the general error page, in the page's language."""
        page = page_for(request)
        status = error.status if error.status in (403, 404, 409) else 400
        return page.render("errors/problem.html", status_code=status, errors=error.field_errors())

    @app.exception_handler(CsrfRejected)
    async def csrf(request: Request, _: CsrfRejected) -> Response:
        return page_for(request).render("errors/problem.html", status_code=403, code="csrf")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "not_found"}.get(error.status_code, "rejected")
        return page_for(request).render("errors/problem.html", status_code=error.status_code, code=code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.error("unexpected %s on %s %s", type(error).__name__, request.method, request.url.path)
        return page_for(request).render("errors/unexpected.html", status_code=500)
