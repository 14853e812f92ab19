"""The parents' pages beyond phase 1 with the network under the API client replaced: catalogue with filters and
map markers, the programme page and enrolling, leaving, a month of attendance confirmed or disputed, the family
budget and the data download. Each asserts what the page asks the API and what it shows from the answer."""

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
CHILD = {"id": "c-1", "iin_masked": "********0012", "region_code": "astana", "district_code": "yesil"}
PROGRAMME = {
    "id": "pr-1",
    "provider_id": "pv-1",
    "provider_name": "Olimp",
    "status": "published",
    "direction": "sports",
    "title": {"kk": "Жүзу", "ru": "Плавание", "en": "Swimming"},
    "description": {"kk": "Бассейн", "ru": "Бассейн", "en": "Pool"},
    "age_min": 6,
    "age_max": 12,
    "language": "kk",
    "schedule": [{"weekday": 1, "start": "16:00", "end": "17:00"}],
    "sessions_per_month": 4,
    "price_per_month_tiyn": 1_800_000,
    "capacity": 10,
    "free_seats": 3,
    "region_code": "astana",
    "district_code": "yesil",
    "address": "Dostyk 1",
    "lat": 51.12,
    "lon": 71.43,
    "ratings": None,
}
MONTH = {
    "id": "ts-1",
    "enrolment_id": "e-1",
    "period": "2026-11",
    "child_id": "c-1",
    "programme_id": "pr-1",
    "provider_id": "pv-1",
    "region_code": "astana",
    "district_code": "yesil",
    "status": "submitted",
    "planned_sessions": 4,
    "attended_sessions": 4,
    "absent_sessions": 0,
    "cancelled_sessions": 0,
    "payable_sessions": None,
    "basis": None,
    "confirm_by": "2026-12-10T00:00:00Z",
    "late": False,
    "submitted_at": None,
    "submitted_by": None,
    "decided_at": None,
    "decided_by": None,
    "timezone": "Asia/Almaty",
    "sessions": [{"date": "2026-11-02", "starts_at": "16:00:00", "status": "attended"}],
    "decisions": [],
    "dispute": None,
}


class Services:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.seen: list[httpx.Request] = []

    def on(self, method: str, path: str, status: int, body: object) -> None:
        self.routes[(method, path)] = lambda _: httpx.Response(status, json=body)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(404, json={"title": "Not found", "status": 404})
        return handler(request)

    def sent(self, method: str, path: str) -> httpx.Request:
        return next(r for r in self.seen if r.method == method and r.url.path == path)


@pytest.fixture
def services() -> Services:
    s = Services()
    s.on("GET", "/v1/children", 200, {"items": [CHILD]})
    s.on("GET", "/v1/programmes/pr-1", 200, PROGRAMME)
    return s


@pytest.fixture
def portal(tmp_path: Path, services: Services) -> Iterator[TestClient]:
    settings = PortalSettings(keys_dir=tmp_path, dev_mode=True)
    with TestClient(create_app(settings, transport=httpx.MockTransport(services))) as client:
        client.get("/login")
        services.on("POST", "/v1/auth/otp/request", 202, {"challenge_id": "c", "expires_in": 300})
        services.on("POST", "/v1/auth/otp/verify", 200, TOKENS)
        client.post("/login", data={"iin": "900101300017", "csrf": csrf(client)})
        client.post("/login/code", data={"challenge_id": "c", "code": "123456", "csrf": csrf(client)})
        yield client


def csrf(client: TestClient) -> str:
    return str(client.cookies["qosym_csrf"])


def test_the_catalogue_passes_the_filters_to_the_search_and_puts_each_programme_on_the_map(
    portal: TestClient, services: Services
) -> None:
    services.on("GET", "/v1/programmes", 200, {"items": [PROGRAMME], "total": 1})
    services.on(
        "GET",
        "/v1/consultation-points",
        200,
        {
            "items": [
                {
                    "region_code": "astana",
                    "district": "yesil",
                    "name": "School 2",
                    "address": "Dostyk 13",
                    "opening_days": ["saturday"],
                }
            ]
        },
    )
    portal.cookies.set("qosym_lang", "ru")
    page = portal.get("/parent/catalogue?direction=sports&age=8&max_price_tiyn=20000&free_seats=true")
    assert page.status_code == 200
    query = services.sent("GET", "/v1/programmes").url.params
    assert (query["region_code"], query["direction"], query["age"], query["free_seats"]) == (
        "astana",
        "sports",
        "8",
        "true",
    )
    assert query["max_price_tiyn"] == "2000000"  # the form asks in tenge, the API in tiyn
    assert "Плавание" in page.text and "18\u202f000 ₸" in page.text and "Суббота" in page.text
    markers = json.loads(page.text.split("data-markers='")[1].split("'")[0])
    assert markers == [{"lat": 51.12, "lon": 71.43, "title": "Плавание", "href": "/parent/programmes/pr-1"}]
    assert "/static/leaflet/leaflet.js" in page.text and portal.get("/static/leaflet/leaflet.js").status_code == 200


def test_a_bad_filter_is_told_next_to_its_field(portal: TestClient, services: Services) -> None:
    problem = {"status": 422, "errors": [{"field": "query.age", "type": "less_than_equal", "message": "x"}]}
    services.on("GET", "/v1/programmes", 422, problem)
    services.on("GET", "/v1/consultation-points", 200, {"items": []})
    page = portal.get("/parent/catalogue?age=99")
    assert page.status_code == 422
    assert '<p class="field-error" id="age-error">' in page.text


def test_enrolling_posts_the_child_and_programme_and_a_refusal_lands_next_to_the_child(
    portal: TestClient, services: Services
) -> None:
    services.on("GET", "/v1/programmes/pr-1/reviews", 200, {"items": []})
    services.on("POST", "/v1/enrolments", 409, {"status": 409, "title": "Conflict", "detail": "no voucher"})
    page = portal.post("/parent/programmes/pr-1/enrol", data={"child_id": "c-1", "csrf": csrf(portal)})
    assert page.status_code == 422
    assert json.loads(services.sent("POST", "/v1/enrolments").content) == {"child_id": "c-1", "programme_id": "pr-1"}
    assert '<p class="field-error" id="child_id-error">' in page.text
    assert catalogue("kk")["errors.conflict"] in page.text and "no voucher" not in page.text

    services.on("POST", "/v1/enrolments", 202, {"id": "e-1", "status": "requested"})
    done = portal.post(
        "/parent/programmes/pr-1/enrol", data={"child_id": "c-1", "csrf": csrf(portal)}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/parent/enrolments?requested=1"


def test_the_enrolments_page_polls_while_a_request_waits_and_leaving_needs_a_reason(
    portal: TestClient, services: Services
) -> None:
    enrolment = {"id": "e-1", "programme_id": "pr-1", "child_id": "c-1", "status": "requested", "reason": None}
    services.on("GET", "/v1/children/c-1/enrolments", 200, {"items": [enrolment]})
    page = portal.get("/parent/enrolments")
    assert 'hx-get="/parent/enrolments-panel"' in page.text and "Жүзу" in page.text
    refused = portal.post("/parent/enrolments/e-1/leave", data={"reason": " ", "csrf": csrf(portal)})
    assert refused.status_code == 422 and '<p class="field-error" id="reason-error">' in refused.text
    assert not any(r.url.path == "/v1/enrolments/e-1/end" for r in services.seen)
    services.on("POST", "/v1/enrolments/e-1/end", 200, enrolment | {"status": "ended"})
    left = portal.post(
        "/parent/enrolments/e-1/leave", data={"reason": "moved", "csrf": csrf(portal)}, follow_redirects=False
    )
    assert left.headers["location"] == "/parent/enrolments?left=1"
    assert json.loads(services.sent("POST", "/v1/enrolments/e-1/end").content) == {"reason": "moved"}


def test_a_submitted_month_is_confirmed_or_disputed_through_attendance(portal: TestClient, services: Services) -> None:
    services.on("GET", "/v1/timesheets", 200, {"items": [MONTH]})
    services.on("GET", "/v1/timesheets/ts-1", 200, MONTH)
    listing = portal.get("/parent/attendance?period=2026-11")
    assert services.sent("GET", "/v1/timesheets").url.params["period"] == "2026-11"
    assert (
        'href="/parent/attendance/ts-1"' in listing.text
        and catalogue("kk")["parent.timesheet_status.submitted"] in listing.text
    )
    month = portal.get("/parent/attendance/ts-1")
    assert 'action="/parent/attendance/ts-1/confirm"' in month.text
    services.on("POST", "/v1/timesheets/ts-1/confirm", 200, {"confirmed": ["ts-1"]})
    confirmed = portal.post("/parent/attendance/ts-1/confirm", data={"csrf": csrf(portal)}, follow_redirects=False)
    assert confirmed.headers["location"] == "/parent/attendance/ts-1?confirmed=1"

    problem = {"status": 422, "errors": [{"field": "body.sessions.0.claim", "type": "literal_error", "message": "x"}]}
    services.on("POST", "/v1/timesheets/ts-1/dispute", 422, problem)
    form = {"session": "2026-11-02|16:00", "claim": "absent", "comment": "at the doctor's", "csrf": csrf(portal)}
    disputed = portal.post("/parent/attendance/ts-1/dispute", data=form)
    assert disputed.status_code == 422 and '<p class="field-error" id="claim-error">' in disputed.text
    assert json.loads(services.sent("POST", "/v1/timesheets/ts-1/dispute").content) == {
        "comment": "at the doctor's",
        "sessions": [{"date": "2026-11-02", "starts_at": "16:00", "claim": "absent", "comment": "at the doctor's"}],
    }


def test_the_budget_shows_the_voucher_the_co_payment_and_the_years_projection(
    portal: TestClient, services: Services
) -> None:
    line = {
        "period": "2026-12",
        "monthly_value_tiyn": 1_500_000,
        "price_per_month_tiyn": 1_800_000,
        "covered_tiyn": 1_500_000,
        "co_payment_tiyn": 300_000,
        "accrued_tiyn": None,
        "payable_sessions": None,
        "planned_sessions": None,
    }
    enrolment = {
        "enrolment_id": "e-1",
        "child_id": "c-1",
        "programme_id": "pr-1",
        "provider_id": "pv-1",
        "voucher_id": "v-1",
        "status": "confirmed",
        "monthly_value_tiyn": 1_500_000,
        "price_per_month_tiyn": 1_800_000,
        "covered_tiyn": 1_500_000,
        "co_payment_tiyn": 300_000,
        "current": line,
        "history": [],
        "projection": {"months": 6, "covered_tiyn": 9_000_000, "co_payment_tiyn": 1_800_000, "total_tiyn": 10_800_000},
    }
    services.on(
        "GET",
        "/v1/families/me/budget",
        200,
        {
            "guardian_id": "p-1",
            "period": "2026-12",
            "children": [{"child_id": "c-1", "enrolments": [enrolment]}],
            "projection": {
                "months": 6,
                "covered_tiyn": 9_000_000,
                "co_payment_tiyn": 1_800_000,
                "total_tiyn": 10_800_000,
            },
        },
    )
    page = portal.get("/parent/budget")
    assert page.status_code == 200
    assert "3\u202f000 ₸" in page.text and "18\u202f000 ₸" in page.text and "108\u202f000 ₸" in page.text
    assert "Жүзу" in page.text and "********0012" in page.text


def test_my_data_downloads_the_registrys_export(portal: TestClient, services: Services) -> None:
    services.on("GET", "/v1/me/export", 200, {"person": {"id": "p-1"}, "children": [CHILD]})
    download = portal.get("/parent/data")
    assert download.headers["content-disposition"] == 'attachment; filename="qosym-my-data.json"'
    assert download.json()["children"] == [CHILD]
    assert services.sent("GET", "/v1/me/export").headers["authorization"] == "Bearer acc"


def test_the_inbox_lists_the_messages_and_relays_the_live_stream_with_the_parents_token(
    portal: TestClient, services: Services
) -> None:
    message = {
        "id": "m-1",
        "seq": 7,
        "kind": "voucher_awarded",
        "title": "Ваучер берілді",
        "body": "Құттықтаймыз",
        "created_at": "2026-12-03T06:00:00Z",
        "read_at": None,
        "payload": {},
        "subject_id": "a-1",
        "language": "kk",
    }
    services.on("GET", "/v1/inbox", 200, {"items": [message]})
    services.on("GET", "/v1/inbox/unread", 200, {"unread": 1})
    sse = b'event: ready\ndata: {"unread": 1}\n\nevent: message\nid: 8\ndata: {"id": "m-2", "title": "x"}\n\n'
    services.routes[("GET", "/v1/inbox/stream")] = lambda _: httpx.Response(
        200, content=sse, headers={"content-type": "text/event-stream"}
    )
    page = portal.get("/parent/inbox")
    assert "Ваучер берілді" in page.text and 'action="/parent/inbox/m-1/read"' in page.text
    assert "/static/parent_inbox.js" in page.text
    live = portal.get("/parent/inbox/stream", headers={"Last-Event-ID": "7"})
    assert live.headers["content-type"].startswith("text/event-stream") and live.content == sse
    upstream = services.sent("GET", "/v1/inbox/stream")
    assert upstream.headers["authorization"] == "Bearer acc" and upstream.headers["last-event-id"] == "7"
    assert "acc" not in live.text  # the token never reaches the browser


def test_a_parent_writes_to_the_provider_about_an_enrolment(portal: TestClient, services: Services) -> None:
    thread = {
        "thread_id": "t-1",
        "object_type": "enrolment",
        "object_id": "e-1",
        "counterpart": "provider",
        "child_id": "c-1",
        "started_at": "2026-12-03T06:00:00Z",
        "your_side": "guardian",
        "receipts": [],
    }
    services.on("POST", "/v1/threads", 201, thread)
    started = portal.post(
        "/parent/threads",
        data={"object_type": "enrolment", "object_id": "e-1", "with": "provider", "csrf": csrf(portal)},
        follow_redirects=False,
    )
    assert started.headers["location"] == "/parent/threads/t-1"
    assert json.loads(services.sent("POST", "/v1/threads").content) == {
        "object_type": "enrolment",
        "object_id": "e-1",
        "with": "provider",
    }
    services.on("GET", "/v1/threads/t-1", 200, thread)
    services.on(
        "GET",
        "/v1/threads/t-1/messages",
        200,
        {
            "items": [
                {
                    "message_id": "x",
                    "author_side": "provider_staff",
                    "language": "ru",
                    "text": "Добро пожаловать",
                    "posted_at": "2026-12-03T06:01:00Z",
                }
            ]
        },
    )
    services.on("POST", "/v1/threads/t-1/read", 200, thread)
    services.on("POST", "/v1/threads/t-1/messages", 201, {"message_id": "y"})
    portal.cookies.set("qosym_lang", "ru")
    shown = portal.get("/parent/threads/t-1")
    assert "Добро пожаловать" in shown.text and "Организация" in shown.text
    portal.post("/parent/threads/t-1/messages", data={"text": "Спасибо", "csrf": csrf(portal)})
    assert json.loads(services.sent("POST", "/v1/threads/t-1/messages").content) == {
        "language": "ru",
        "text": "Спасибо",
    }


def test_rating_before_a_confirmed_month_is_told_next_to_the_stars(portal: TestClient, services: Services) -> None:
    problem = {"status": 422, "errors": [{"field": "enrolment_id", "type": "value_error", "message": "no month"}]}
    services.on("POST", "/v1/reviews", 422, problem)
    page = portal.post("/parent/enrolments/e-1/review", data={"rating": "5", "text": "Жақсы", "csrf": csrf(portal)})
    assert page.status_code == 422 and '<p class="field-error" id="rating-error">' in page.text
    assert json.loads(services.sent("POST", "/v1/reviews").content) == {
        "enrolment_id": "e-1",
        "rating": 5,
        "text": "Жақсы",
    }
    services.on("POST", "/v1/reviews", 201, {"id": "r-1"})
    done = portal.post(
        "/parent/enrolments/e-1/review",
        data={"rating": "4", "text": "Жақсы", "csrf": csrf(portal)},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/parent/enrolments?reviewed=1"


REGION = {"code": "astana", "config": {"code": "astana", "priority_weights": {"large_family": 60, "orphan": 120}}}
CLAIM = {
    "id": "cl-1",
    "child_id": "c-1",
    "code": "orphan",
    "status": "verified",
    "valid_from": "2026-01-01",
    "valid_until": None,
    "decided_by": "op-1",
    "reason": None,
    "declared_at": "2026-11-01T10:00:00Z",
    "decided_at": "2026-11-02T10:00:00Z",
}
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"


def test_the_categories_page_lists_the_claims_and_offers_the_regions_categories(
    portal: TestClient, services: Services
) -> None:
    services.on("GET", "/v1/children/c-1", 200, CHILD)
    services.on("GET", "/v1/children/c-1/categories", 200, {"items": [CLAIM], "total": 1, "offset": 0, "limit": 100})
    services.on("GET", "/v1/regions/astana", 200, REGION)
    kk = catalogue("kk")
    page = portal.get("/parent/children/c-1/categories")
    assert page.status_code == 200
    assert kk["category.orphan"] in page.text and kk["parent.category_status.verified"] in page.text
    assert 'data-status="verified"' in page.text
    options = page.text.split('<select id="code"')[1].split("</select>")[0]
    assert options.index('value="orphan"') < options.index('value="large_family"')  # as the region weighs them
    assert 'enctype="multipart/form-data"' in page.text and 'name="file" type="file"' in page.text

    services.on("GET", "/v1/children", 200, {"items": [CHILD]})
    services.on("GET", "/v1/applications", 200, {"items": []})
    services.on("GET", "/v1/rounds", 200, {"items": []})
    services.on("GET", "/v1/regions", 200, {"items": [REGION]})
    services.on("GET", "/v1/children/c-1", 200, CHILD)
    panel = portal.get("/parent/children-panel")
    assert 'href="/parent/children/c-1/categories"' in panel.text  # linked from the children panel


def test_declaring_sends_the_code_and_document_multipart_and_the_registrys_refusal_lands_next_to_the_field(
    portal: TestClient, services: Services
) -> None:
    services.on("GET", "/v1/children/c-1", 200, CHILD)
    services.on("GET", "/v1/children/c-1/categories", 200, {"items": [], "total": 0, "offset": 0, "limit": 100})
    services.on("GET", "/v1/regions/astana", 200, REGION)
    ru = catalogue("ru")
    portal.cookies.set("qosym_lang", "ru")

    missing = portal.post("/parent/children/c-1/categories", data={"code": "", "csrf": csrf(portal)})
    assert missing.status_code == 422
    assert '<p class="field-error" id="code-error">' in missing.text
    assert '<p class="field-error" id="file-error">' in missing.text
    assert not any(r.method == "POST" and r.url.path == "/v1/children/c-1/categories" for r in services.seen)

    wrong_type = {
        "status": 422,
        "errors": [{"field": "file", "type": "evidence_type", "message": "evidence must be a PDF, JPEG or PNG"}],
    }
    services.on("POST", "/v1/children/c-1/categories", 422, wrong_type)
    files = {"file": ("note.txt", b"hello", "text/plain")}
    refused = portal.post("/parent/children/c-1/categories", data={"code": "orphan", "csrf": csrf(portal)}, files=files)
    assert refused.status_code == 422
    error = refused.text.split('<p class="field-error" id="file-error">')[1].split("</p>")[0]
    assert ru["errors.evidence_type"] in error and "evidence must be" not in refused.text
    assert 'aria-invalid="true"' in refused.text.split('id="file"')[1].split(">")[0]
    assert 'value="orphan" selected' in refused.text  # the choice is kept
    sent = services.sent("POST", "/v1/children/c-1/categories")
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert b'name="code"\r\n\r\norphan' in sent.content and b'filename="note.txt"' in sent.content

    services.on(
        "POST",
        "/v1/children/c-1/categories",
        422,
        {"status": 422, "errors": [{"field": "code", "type": "unknown_category", "message": "x"}]},
    )
    unknown = portal.post(
        "/parent/children/c-1/categories",
        data={"code": "orphan", "csrf": csrf(portal)},
        files={"file": ("a.pdf", PDF, "application/pdf")},
    )
    assert ru["errors.unknown_category"] in unknown.text.split('id="code-error">')[1].split("</p>")[0]

    services.on("POST", "/v1/children/c-1/categories", 409, {"status": 409, "title": "Conflict"})
    twice = portal.post(
        "/parent/children/c-1/categories",
        data={"code": "orphan", "csrf": csrf(portal)},
        files={"file": ("a.pdf", PDF, "application/pdf")},
    )
    assert ru["errors.category_verified"] in twice.text.split('id="code-error">')[1].split("</p>")[0]

    services.on("POST", "/v1/children/c-1/categories", 201, {"id": "cl-2", "code": "orphan", "status": "declared"})
    done = portal.post(
        "/parent/children/c-1/categories",
        data={"code": "orphan", "csrf": csrf(portal)},
        files={"file": ("a.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/parent/children/c-1/categories?declared=1"


def test_a_document_above_5_mib_is_refused_next_to_the_file_without_calling_the_registry(
    portal: TestClient, services: Services
) -> None:
    services.on("GET", "/v1/children/c-1", 200, CHILD)
    services.on("GET", "/v1/children/c-1/categories", 200, {"items": [], "total": 0, "offset": 0, "limit": 100})
    services.on("GET", "/v1/regions/astana", 200, REGION)
    big = PDF + b"0" * (5 * 1024 * 1024)
    page = portal.post(
        "/parent/children/c-1/categories",
        data={"code": "orphan", "csrf": csrf(portal)},
        files={"file": ("big.pdf", big, "application/pdf")},
    )
    assert page.status_code == 422
    assert catalogue("kk")["errors.evidence_too_large"] in page.text.split('id="file-error">')[1].split("</p>")[0]
    assert not any(r.method == "POST" and r.url.path == "/v1/children/c-1/categories" for r in services.seen)


def test_a_confirmed_enrolment_changes_club_through_catalog_and_a_refusal_lands_next_to_the_programme(
    portal: TestClient, services: Services
) -> None:
    other = PROGRAMME | {"id": "pr-2", "title": {"kk": "Футбол", "ru": "Футбол", "en": "Football"}}
    enrolment = {"id": "e-1", "programme_id": "pr-1", "child_id": "c-1", "status": "confirmed", "reason": None}
    services.on("GET", "/v1/children/c-1/enrolments", 200, {"items": [enrolment]})
    services.on("GET", "/v1/programmes", 200, {"items": [PROGRAMME, other], "total": 2})
    kk = catalogue("kk")
    page = portal.get("/parent/enrolments")
    query = services.sent("GET", "/v1/programmes").url.params
    assert (query["region_code"], query["direction"]) == ("astana", "sports")  # the voucher's region and direction
    assert 'action="/parent/enrolments/e-1/change-club"' in page.text and kk["parent.enrolments.change"] in page.text
    choices = page.text.split('name="programme_id"')[1].split("</select>")[0]
    assert 'value="pr-2"' in choices and 'value="pr-1"' not in choices  # not the programme it is in

    services.on("POST", "/v1/enrolments/e-1/change-club", 409, {"status": 409, "title": "Conflict", "detail": "full"})
    refused = portal.post(
        "/parent/enrolments/e-1/change-club", data={"programme_id": "pr-2", "reason": "", "csrf": csrf(portal)}
    )
    assert refused.status_code == 422
    assert kk["errors.conflict"] in refused.text.split('id="programme_id-error">')[1].split("</p>")[0]
    assert json.loads(services.sent("POST", "/v1/enrolments/e-1/change-club").content) == {"programme_id": "pr-2"}

    services.seen.clear()
    services.on("POST", "/v1/enrolments/e-1/change-club", 202, enrolment | {"id": "e-2", "status": "requested"})
    done = portal.post(
        "/parent/enrolments/e-1/change-club",
        data={"programme_id": "pr-2", "reason": "closer to home", "csrf": csrf(portal)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/parent/enrolments?changing=1"
    assert json.loads(services.sent("POST", "/v1/enrolments/e-1/change-club").content) == {
        "programme_id": "pr-2",
        "reason": "closer to home",
    }
    empty = portal.post("/parent/enrolments/e-1/change-club", data={"programme_id": "", "csrf": csrf(portal)})
    assert empty.status_code == 422 and '<p class="field-error" id="programme_id-error">' in empty.text
