"""The API client: problem+json becomes field errors, a service that is down becomes ServiceUnavailable, an
expiring access token is refreshed once and the new tokens are handed back for the cookie."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from portal.adapters.api_client import (
    ApiClient,
    ApiProblem,
    FieldErrors,
    NotSignedIn,
    ServiceUnavailable,
    session_from_tokens,
)
from portal.adapters.session import Session
from portal.config import PortalSettings

pytestmark = pytest.mark.unit

PROBLEM = {
    "type": "validation-failed",
    "title": "Unprocessable content",
    "status": 422,
    "detail": "iin: not a valid IIN",
    "errors": [
        {"field": "iin", "message": "not a valid IIN", "type": "iin_invalid"},
        {"field": "body.district_code", "message": "unknown district", "type": "something_new"},
        {"field": "declared_sex", "message": "x", "type": "literal_error"},
    ],
}


def test_a_problem_names_its_fields_and_what_the_form_does_not_show_becomes_general() -> None:
    errors = FieldErrors.from_problem(422, PROBLEM, frozenset({"iin", "district_code"}))
    assert errors.of("iin") == ["iin_invalid"]
    assert errors.of("district_code") == ["invalid"]  # an unknown type reads as the generic, translated "invalid"
    assert errors.general == ["literal_error"]  # a field this form does not have


def test_a_problem_without_field_errors_is_a_general_error_by_status() -> None:
    assert FieldErrors.from_problem(409, {"detail": "already applied"}).general == ["conflict"]
    assert FieldErrors.from_problem(418, {}).general == ["rejected"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _session(expires_in: float = 900) -> Session:
    return Session("old-access", "old-refresh", time.time() + expires_in, "person-1", "parent")


async def test_a_service_that_does_not_answer_is_unavailable() -> None:
    settings = PortalSettings(allocation_url=f"http://127.0.0.1:{_free_port()}")
    async with httpx.AsyncClient() as http:
        with pytest.raises(ServiceUnavailable) as raised:
            await ApiClient(settings, http, _session()).get("allocation", "/v1/applications")
    assert raised.value.service == "allocation"


async def test_a_gateway_error_is_unavailable_and_a_422_is_a_problem() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/down":
            return httpx.Response(503, json={"title": "Service unavailable"})
        return httpx.Response(422, json=PROBLEM, headers={"content-type": "application/problem+json"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        client = ApiClient(PortalSettings(), http, _session())
        with pytest.raises(ServiceUnavailable):
            await client.get("registry", "/down")
        with pytest.raises(ApiProblem) as raised:
            await client.post("registry", "/v1/children", json={"iin": "1"})
    assert raised.value.status == 422
    assert raised.value.field_errors("iin").of("iin") == ["iin_invalid"]


async def test_the_users_own_token_and_language_go_with_every_call() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": []})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        body = await ApiClient(PortalSettings(), http, _session(), language="kk").get("registry", "/v1/children")
    assert body == {"items": []}
    assert seen[0].headers["authorization"] == "Bearer old-access"
    assert seen[0].headers["accept-language"] == "kk"


async def test_an_expiring_token_is_refreshed_first_and_the_new_session_is_handed_back() -> None:
    calls: list[tuple[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append((request.url.path, request.headers.get("authorization", "")))
        if request.url.path == "/v1/auth/refresh":
            assert json.loads(request.content) == {"refresh_token": "old-refresh"}
            tokens = {"access_token": "new-access", "refresh_token": "new-refresh", "expires_in": 900}
            return httpx.Response(200, json=tokens | {"subject": "person-1", "role": "parent"})
        return httpx.Response(200, json={"items": []})

    handed: list[Session | None] = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        client = ApiClient(PortalSettings(), http, _session(expires_in=5), handed.append)
        await client.get("registry", "/v1/children")
    assert calls == [("/v1/auth/refresh", ""), ("/v1/children", "Bearer new-access")]
    assert handed and handed[0] is not None and handed[0].refresh_token == "new-refresh"


async def test_a_refused_refresh_signs_out() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"title": "Unauthorized", "status": 401, "detail": "spent"})

    handed: list[Session | None] = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        with pytest.raises(NotSignedIn):
            await ApiClient(PortalSettings(), http, _session(expires_in=0), handed.append).get("registry", "/v1/me")
    assert handed == [None]


def test_a_session_from_the_registrys_answer() -> None:
    tokens = {"access_token": "a", "refresh_token": "r", "expires_in": 900, "subject": "s", "role": "parent"}
    session = session_from_tokens(tokens, now=1000.0)
    assert (session.expires_at, session.role, session.subject) == (1900.0, "parent", "s")
    assert not session.expires_soon(now=1000.0) and session.expires_soon(now=1880.0)
