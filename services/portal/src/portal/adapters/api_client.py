"""One HTTP client for every service's public API, called with the signed-in person's own token.

What a page gets back is the API's JSON, or one of three exceptions the entrypoints turn into pages:

* ``ApiProblem``: a problem+json answer (4xx). Its ``field_errors`` (a ``FieldErrors``) name the fields of the
  ``errors`` list, each with its error type; the templates show a translated message next to that field
  (the form's field names are the API's, so nothing is mapped by hand). ``general`` holds a page-level code.
* ``ServiceUnavailable``: the service did not answer (connection refused, timeout, 502/503/504): a clear page.
* ``NotSignedIn``: no session, or the registry refused the token and its refresh: back to the login page.

Before a call, an access token about to expire is refreshed with the refresh token (``/v1/auth/refresh`` on the
registry); the new tokens are handed to ``on_session`` so the entrypoint writes them into the cookie.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from portal.adapters.session import Session
from portal.config import PortalSettings

UNAVAILABLE_STATUSES = frozenset({502, 503, 504})
KNOWN_ERROR_TYPES = frozenset(
    {
        "missing",
        "invalid",
        "string_too_short",
        "string_too_long",
        "string_pattern_mismatch",
        "uuid_parsing",
        "value_error",
        "literal_error",
        "enum",
        "extra_forbidden",
        "iin_invalid",
        "not_found",
        "conflict",
        "forbidden",
        "age_band",
        "iin_format",
        "iin_century",
        "iin_birth_date",
        "iin_never_issued",
        "iin_checksum",
    }
)


@dataclass
class FieldErrors:
    """Errors by form field (the API's field name) as error codes; the templates translate them."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, name: str, code: str) -> None:
        self.by_field.setdefault(name, []).append(code)

    def of(self, name: str) -> list[str]:
        return self.by_field.get(name, [])

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)

    @classmethod
    def from_problem(cls, status: int, body: dict[str, Any], known_fields: frozenset[str] = frozenset()) -> FieldErrors:
        """The problem's ``errors`` by field; an error on a field the form does not show becomes a general one."""
        found = cls()
        for error in body.get("errors") or []:
            if not isinstance(error, dict):
                continue
            name = str(error.get("field", "")).split(".")[-1]
            code = error_code(str(error.get("type", "invalid")))
            if name in known_fields:
                found.add(name, code)
            else:
                found.general.append(code)
        if not found:
            found.general.append(status_code(status))
        return found


def error_code(api_type: str) -> str:
    """An API error type as an i18n key under ``errors.`` (an unknown type reads as the generic ``invalid``)."""
    return api_type if api_type in KNOWN_ERROR_TYPES else "invalid"


def status_code(status: int) -> str:
    return {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 429: "rate_limited"}.get(
        status, "rejected"
    )


class ApiProblem(Exception):
    def __init__(self, service: str, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{service} answered {status}")
        self.service = service
        self.status = status
        self.body = body
        self.type = str(body.get("type", "about:blank"))

    def field_errors(self, *fields: str) -> FieldErrors:
        return FieldErrors.from_problem(self.status, self.body, frozenset(fields))


class ServiceUnavailable(Exception):
    def __init__(self, service: str) -> None:
        super().__init__(f"{service} is unavailable")
        self.service = service


class NotSignedIn(Exception):
    """No session, or the registry no longer accepts it."""


def session_from_tokens(body: dict[str, Any], now: float | None = None) -> Session:
    """A session from the registry's SessionOut (access and refresh token, expires_in, subject, role).

    The staff's scope (``provider``, ``region``) is read from the access token's claims only to choose what a page
    shows; the portal verifies nothing itself: every API checks the token on every call."""
    return Session(
        access_token=str(body["access_token"]),
        refresh_token=str(body["refresh_token"]),
        expires_at=(now if now is not None else time.time()) + float(body["expires_in"]),
        subject=str(body["subject"]),
        role=str(body["role"]),
        scope=unverified_scope(str(body["access_token"])),
    )


def unverified_scope(token: str) -> dict[str, str]:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    scope = claims.get("scope") if isinstance(claims, dict) else None
    return {str(k): str(v) for k, v in scope.items()} if isinstance(scope, dict) else {}


class ApiClient:
    def __init__(
        self,
        settings: PortalSettings,
        http: httpx.AsyncClient,
        session: Session | None,
        on_session: Callable[[Session | None], None] = lambda _: None,
        language: str = "en",
    ) -> None:
        self._settings = settings
        self._http = http
        self.session = session
        self._on_session = on_session
        self._language = language

    # --- calls ------------------------------------------------------------------------------------

    async def get(self, service: str, path: str, *, params: dict[str, Any] | None = None) -> Any:
        return await self.call("GET", service, path, params=params)

    async def post(
        self,
        service: str,
        path: str,
        *,
        json: Any = None,
        data: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        signed_in: bool = True,
    ) -> Any:
        return await self.call("POST", service, path, json=json, data=data, files=files, signed_in=signed_in)

    async def download(self, service: str, path: str) -> httpx.Response:
        """A file the API serves (not JSON: a payment order's XML), as the response; errors as for ``call``."""
        await self._fresh_session()
        response = await self._send("GET", service, path, signed_in=True)
        if response.status_code >= 400:
            self._answer(service, response)
        return response

    async def call(self, method: str, service: str, path: str, *, signed_in: bool = True, **kwargs: Any) -> Any:
        if signed_in:
            await self._fresh_session()
        response = await self._send(method, service, path, signed_in=signed_in, **kwargs)
        if response.status_code == 401 and signed_in and self.session is not None:
            await self._refresh()  # the access token was refused (revoked, key rotated): one refresh, one retry
            response = await self._send(method, service, path, signed_in=signed_in, **kwargs)
            if response.status_code == 401:
                self._sign_out()
        return self._answer(service, response, signed_in=signed_in)

    async def _send(self, method: str, service: str, path: str, *, signed_in: bool, **kwargs: Any) -> httpx.Response:
        headers = {"Accept-Language": self._language, "Accept": "application/json, application/problem+json"}
        if signed_in:
            if self.session is None:
                raise NotSignedIn
            headers["Authorization"] = f"Bearer {self.session.access_token}"
        try:
            return await self._http.request(
                method,
                f"{self._settings.service_url(service)}{path}",
                headers=headers,
                timeout=self._settings.api_timeout_s,
                **kwargs,
            )
        except httpx.TransportError as error:
            raise ServiceUnavailable(service) from error

    def _answer(self, service: str, response: httpx.Response, *, signed_in: bool = True) -> Any:
        """The JSON body; a 401 on a signed-in call means the session is gone, on a login call a wrong secret."""
        if response.status_code in UNAVAILABLE_STATUSES:
            raise ServiceUnavailable(service)
        if response.status_code == 401 and signed_in:
            raise NotSignedIn
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise ApiProblem(service, response.status_code, body if isinstance(body, dict) else {})
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # --- the session ------------------------------------------------------------------------------

    async def _fresh_session(self) -> None:
        if self.session is None:
            raise NotSignedIn
        if self.session.expires_soon():
            await self._refresh()

    async def _refresh(self) -> None:
        assert self.session is not None
        response = await self._send(
            "POST", "registry", "/v1/auth/refresh", signed_in=False, json={"refresh_token": self.session.refresh_token}
        )
        if response.status_code in (400, 401, 403, 422):
            self._sign_out()
        body = self._answer("registry", response)
        self.session = session_from_tokens(body)
        self._on_session(self.session)

    def _sign_out(self) -> None:
        self.session = None
        self._on_session(None)
        raise NotSignedIn
