"""The portal's own behaviour, with the network under its API client replaced (the real services are driven by
tests/browser): CSRF on every form, the session only in an HttpOnly SameSite=Strict cookie, problem+json next to
its field in the page's language, a service that is down as a clear page, and no open redirect."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from portal.config import PortalSettings
from portal.entrypoints.app import create_app
from portal.i18n import catalogue

pytestmark = pytest.mark.unit

Handler = Callable[[httpx.Request], httpx.Response]
TOKENS = {"access_token": "acc", "refresh_token": "ref", "expires_in": 900, "subject": "p-1", "role": "parent"}
REGION = {
    "code": "astana",
    "name": {"en": "Astana", "kk": "Астана", "ru": "Астана"},
    "districts": [{"code": "yesil", "name": {"en": "Yesil district", "kk": "Есіл ауданы", "ru": "район Есиль"}}],
    "directions": ["sports"],
}


class Services:
    """What each path answers; every request is recorded."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.seen: list[httpx.Request] = []

    def on(self, method: str, path: str, status: int, body: object) -> None:
        self.routes[(method, path)] = lambda _: httpx.Response(status, json=body)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(404, json={"title": "Not found", "status": 404, "detail": request.url.path})
        return handler(request)


@pytest.fixture
def services() -> Services:
    return Services()


@pytest.fixture
def portal(tmp_path: Path, services: Services) -> Iterator[TestClient]:
    settings = PortalSettings(keys_dir=tmp_path, dev_mode=True)
    with TestClient(create_app(settings, transport=httpx.MockTransport(services))) as client:
        client.get("/login")  # the CSRF cookie
        yield client


def csrf(client: TestClient) -> str:
    return str(client.cookies["qosym_csrf"])


def sign_in(portal: TestClient, services: Services) -> httpx.Response:
    services.on("POST", "/v1/auth/otp/request", 202, {"challenge_id": "c-1", "expires_in": 300})
    services.on("POST", "/v1/auth/otp/verify", 200, TOKENS)
    portal.post("/login", data={"iin": "900101300017", "csrf": csrf(portal)})
    form = {"challenge_id": "c-1", "code": "123456", "csrf": csrf(portal)}
    return portal.post("/login/code", data=form, follow_redirects=False)


def test_a_form_without_the_csrf_token_is_refused(portal: TestClient, services: Services) -> None:
    response = portal.post("/login", data={"iin": "900101300017"})
    assert response.status_code == 403
    assert services.seen == []  # nothing reached the registry


def test_signing_in_puts_the_tokens_only_in_an_http_only_strict_cookie(portal: TestClient, services: Services) -> None:
    response = sign_in(portal, services)
    assert response.status_code == 303 and response.headers["location"] == "/parent"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("qosym_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "access_token" not in cookie and "p-1" not in cookie  # encrypted, not merely encoded
    verify = next(r for r in services.seen if r.url.path == "/v1/auth/otp/verify")
    assert json.loads(verify.content) == {"challenge_id": "c-1", "code": "123456"}


def test_a_wrong_code_is_told_next_to_the_code_field(portal: TestClient, services: Services) -> None:
    services.on("POST", "/v1/auth/otp/request", 202, {"challenge_id": "c-1", "expires_in": 300})
    services.on("POST", "/v1/auth/otp/verify", 401, {"title": "Unauthorized", "status": 401, "detail": "wrong code"})
    portal.cookies.set("qosym_lang", "ru")
    response = portal.post("/login/code", data={"challenge_id": "c-1", "code": "000000", "csrf": csrf(portal)})
    assert response.status_code == 401
    assert 'aria-describedby="code-error"' in response.text and 'aria-invalid="true"' in response.text
    assert "Код неверный или устарел" in response.text


def test_the_apis_field_error_is_shown_next_to_its_field_in_the_page_language(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services)
    services.on("GET", "/v1/regions", 200, {"items": [{"revision": 1, "config": REGION}]})
    problem = {"status": 422, "errors": [{"field": "iin", "message": "not a valid IIN", "type": "iin_invalid"}]}
    services.on("POST", "/v1/children", 422, problem)
    form = {"iin": "123456789012", "region_code": "astana", "district_code": "yesil", "csrf": csrf(portal)}
    response = portal.post("/parent/children", data=form)
    assert response.status_code == 422
    assert '<p class="field-error" id="iin-error">' in response.text
    assert "Бұл жарамды ЖСН емес" in response.text  # Kazakh, the default language
    assert "not a valid IIN" not in response.text  # never the API's English
    sent = next(r for r in services.seen if r.url.path == "/v1/children")
    assert sent.headers["authorization"] == "Bearer acc"  # the parent's own token


def test_a_service_that_is_down_gives_a_clear_page_never_a_trace(tmp_path: Path) -> None:
    settings = PortalSettings(keys_dir=tmp_path, registry_url="http://127.0.0.1:9")  # nothing listens on port 9
    with TestClient(create_app(settings)) as client:
        client.get("/login")
        response = client.post("/login", data={"iin": "900101300017", "csrf": str(client.cookies["qosym_csrf"])})
    assert response.status_code == 503
    assert "Қызмет жауап бермейді" in response.text and "Traceback" not in response.text


def test_pages_of_a_role_need_its_session(portal: TestClient, services: Services) -> None:
    assert portal.get("/parent", follow_redirects=False).headers["location"] == "/login"
    assert portal.get("/admin", follow_redirects=False).headers["location"] == "/staff/login"
    sign_in(portal, services)  # a parent is not staff
    assert portal.get("/admin", follow_redirects=False).headers["location"] == "/staff/login"


def test_the_language_switch_never_redirects_off_the_site(portal: TestClient) -> None:
    response = portal.get("/lang/ru?next=//evil.example/x", follow_redirects=False)
    assert response.headers["location"] == "/"
    assert "qosym_lang=ru" in response.headers["set-cookie"]
    assert "Вход" in portal.get("/login").text


def test_a_session_the_registry_no_longer_accepts_ends_on_the_login_page(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services)
    services.on("GET", "/v1/applications", 401, {"title": "Unauthorized", "status": 401, "detail": "revoked"})
    services.on("POST", "/v1/auth/refresh", 401, {"title": "Unauthorized", "status": 401, "detail": "spent"})
    response = portal.get("/parent", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    cleared = [h for h in response.headers.get_list("set-cookie") if h.startswith("qosym_session=")]
    assert len(cleared) == 1 and "Max-Age=0" in cleared[0]


def test_in_development_the_code_page_shows_the_local_phone_and_elsewhere_it_does_not_exist(
    portal: TestClient, services: Services, tmp_path: Path
) -> None:
    """A newcomer on the local stack has no demo person's phone: the code page shows the texts the SMS stand-in
    received (asking again every 2 s), so the code is read in the browser, never from a command line."""
    services.on("POST", "/v1/auth/otp/request", 202, {"challenge_id": "c-1", "expires_in": 300})
    texts = {"items": [{"text": "Qosym: 271828", "received_at": "2026-12-04T10:00:01+00:00"}], "total": 1}
    services.on("GET", "/dev/sms-gateway/v1/messages", 200, texts)
    page = portal.post("/login", data={"iin": "900101300017", "csrf": csrf(portal)})
    assert page.status_code == 200
    assert 'id="dev-phone"' in page.text and "Qosym: 271828" in page.text and 'hx-get="/login/dev-phone"' in page.text
    asked = next(r for r in services.seen if r.url.path == "/dev/sms-gateway/v1/messages")
    assert "authorization" not in asked.headers  # nobody is signed in yet
    services.on("GET", "/dev/sms-gateway/v1/messages", 200, {"items": [], "total": 0})
    assert catalogue("kk")["auth.dev_phone.none"] in portal.get("/login/dev-phone").text

    settings = PortalSettings(keys_dir=tmp_path / "prod", dev_mode=False)
    with TestClient(create_app(settings, transport=httpx.MockTransport(services))) as production:
        assert production.get("/login/dev-phone").status_code == 404
        production.get("/login")
        shown = production.post("/login", data={"iin": "900101300017", "csrf": csrf(production)})
        assert 'id="dev-phone"' not in shown.text
