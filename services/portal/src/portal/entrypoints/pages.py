"""What every route uses: the page's language, the session, CSRF, the API client and rendering a template.

A route takes ``page: Page`` (a dependency) and calls ``page.render("parent/home.html", children=...)``;
``page.api`` is the ``ApiClient`` with the signed-in person's token; ``page.t("parent.home.title")`` translates.
Forms post a hidden ``csrf`` field (``{{ csrf_field() }}`` in templates) checked by ``check_csrf``.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from portal.adapters.api_client import ApiClient, FieldErrors, NotSignedIn
from portal.adapters.session import CSRF_COOKIE, LANGUAGE_COOKIE, Session, SessionCodec, new_csrf_token
from portal.config import PortalSettings
from portal.i18n import LANGUAGES, Translator

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))

STAFF_ROLES = frozenset({"administrator", "operator", "auditor", "ops"})
HOME_OF_ROLE = {"parent": "/parent", "provider_staff": "/provider"} | {role: "/admin" for role in STAFF_ROLES}


class CsrfRejected(Exception):
    """A form arrived without the CSRF token of this browser."""


def language_of(request: Request, settings: PortalSettings) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return settings.default_language


class Page:
    """One request's view of the portal: language, session, CSRF token, API client, rendering."""

    def __init__(self, request: Request) -> None:
        state = request.app.state
        self.request = request
        self.settings: PortalSettings = state.settings
        self.codec: SessionCodec = state.codec
        self.language = language_of(request, self.settings)
        self.t = Translator(self.language)
        self.csrf_token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
        self.new_csrf = CSRF_COOKIE not in request.cookies
        self.session: Session | None = state.session_of(request)
        self.session_changed = False
        http: httpx.AsyncClient = state.http
        self.api = ApiClient(self.settings, http, self.session, self._session_changed, language=self.language)
        request.state.page = self

    def _session_changed(self, session: Session | None) -> None:
        self.session = session
        self.session_changed = True

    def sign_in(self, session: Session) -> None:
        self._session_changed(session)
        self.api.session = session

    def sign_out(self) -> None:
        self._session_changed(None)
        self.api.session = None

    def require(self, *roles: str) -> Session:
        """The session of one of ``roles``; otherwise back to the login page (NotSignedIn)."""
        if self.session is None or (roles and self.session.role not in roles):
            raise NotSignedIn
        return self.session

    def csrf_field(self) -> Markup:
        return Markup('<input type="hidden" name="csrf" value="{}">').format(self.csrf_token)

    def render(
        self, template: str, *, status_code: int = 200, errors: FieldErrors | None = None, **context: Any
    ) -> HTMLResponse:
        values = {
            "request": self.request,
            "t": self.t,
            "lang": self.language,
            "languages": LANGUAGES,
            "session": self.session,
            "csrf_field": self.csrf_field,
            "csrf_token": self.csrf_token,
            "errors": errors or FieldErrors(),
            "dev_mode": self.settings.dev_mode,
            "path": self.request.url.path,
            **context,
        }
        return TEMPLATES.TemplateResponse(self.request, template, values, status_code=status_code)

    def redirect(self, to: str) -> RedirectResponse:
        return RedirectResponse(to, status_code=303)


async def check_csrf(request: Request) -> None:
    """Every POST carries the browser's CSRF cookie value as the form field ``csrf`` (or an X-CSRF-Token header)."""
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise CsrfRejected


def page_of(request: Request) -> Page:
    return Page(request)


PageDep = Annotated[Page, Depends(page_of)]
Csrf = Depends(check_csrf)


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Only a path on this site (never //host or a scheme): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return fallback


def error_text(t: Translator, code: str) -> str:
    key = f"errors.{code}"
    return t(key) if t.has(key) else t("errors.invalid")


def describe(t: Translator, errors: FieldErrors, name: str) -> Markup:
    """The error messages of one field, as the element aria-describedby points at (``<name>-error``)."""
    codes = errors.of(name)
    if not codes:
        return Markup("")
    text = " ".join(error_text(t, code) for code in codes)
    return Markup('<p class="field-error" id="{}-error">{}</p>').format(name, escape(text))


def tenge(tiyn: int | None) -> str:
    """Integer tiyn as tenge, a thin space between thousands, the tiyn only when there are some: 12 500 ₸,
    1 234 567,89 ₸; nothing known is a dash. Every page shows money through this one filter."""
    if tiyn is None:
        return "—"
    sign = "-" if tiyn < 0 else ""
    whole, rest = divmod(abs(int(tiyn)), 100)
    text = sign + f"{whole:,}".replace(",", "\u202f")
    return f"{text},{rest:02d} ₸" if rest else f"{text} ₸"


TEMPLATES.env.filters["tenge"] = tenge
