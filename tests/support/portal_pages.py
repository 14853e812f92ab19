"""What the portal's page tests (services/portal/tests/unit) share: the services' APIs faked under the portal's API
client (``httpx.MockTransport``), the portal as a TestClient, and a staff member signed in through its own form.

The real services are driven by tests/browser/; these fakes answer only what a test told them to, a 404 problem
otherwise, and keep every request so a test can read what a form sent."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from portal.config import PortalSettings
from portal.entrypoints.app import create_app

Handler = Callable[[httpx.Request], httpx.Response]


def access_token(scope: dict[str, str]) -> str:
    """A token the portal reads its scope from (the portal never verifies it: the services do)."""
    payload = base64.urlsafe_b64encode(json.dumps({"scope": scope}).encode()).decode().rstrip("=")
    return f"header.{payload}.signature"


class FakeApis:
    """The services' APIs by (method, path); every request kept."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.seen: list[httpx.Request] = []

    def on(self, method: str, path: str, status: int, body: object = None) -> None:
        self.routes[(method, path)] = lambda _: httpx.Response(status, json=body)

    def requests(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.seen if (r.method, r.url.path) == (method, path)]

    def sent(self, method: str, path: str) -> object:
        """The JSON body of the newest such request (None without a body)."""
        request = self.requests(method, path)[-1]
        return json.loads(request.content) if request.content else None

    def called(self, method: str, path: str) -> bool:
        return bool(self.requests(method, path))

    def answer(self, request: httpx.Request) -> httpx.Response:
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(404, json={"title": "Not found", "status": 404})
        return handler(request)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return self.answer(request)


@contextmanager
def portal_client(tmp_path: Path, apis: Handler, language: str | None = None) -> Iterator[TestClient]:
    """The portal (development mode, its session key in ``tmp_path``) over the faked APIs, with a CSRF cookie."""
    settings = PortalSettings(keys_dir=tmp_path, dev_mode=True)
    with TestClient(create_app(settings, transport=httpx.MockTransport(apis))) as client:
        client.get("/staff/login")
        if language:
            client.cookies.set("qosym_lang", language)
        yield client


def csrf(client: TestClient) -> str:
    return str(client.cookies["qosym_csrf"])


def staff_tokens(role: str, scope: dict[str, str], subject: str) -> dict[str, object]:
    """registry's answer to a staff sign-in."""
    return {
        "access_token": access_token(scope),
        "refresh_token": "ref",
        "expires_in": 900,
        "subject": subject,
        "role": role,
    }


def submit_staff_sign_in(client: TestClient) -> None:
    """The staff sign-in form sent (registry's answer faked by the caller): the portal redirects home."""
    form = {"username": "u", "password": "p", "totp": "123456", "csrf": csrf(client)}
    assert client.post("/staff/login", data=form, follow_redirects=False).status_code == 303
