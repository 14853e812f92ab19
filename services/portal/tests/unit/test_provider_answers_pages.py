"""The provider's answering pages with the network under the API client replaced (the real services are driven by
tests/browser/test_provider_answers.py): declining an enrolment with a reason, changing only what changed in a
programme and closing it, answering a parent's message and a review; every refusal next to its field."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from portal.i18n import catalogue
from tests.support.portal_pages import FakeApis, csrf, portal_client, staff_tokens, submit_staff_sign_in

pytestmark = pytest.mark.unit

Handler = Callable[[httpx.Request], httpx.Response]
PROVIDER_ID = "5b1f0c1e-0000-4000-8000-000000000001"
PROGRAMME_ID = "5b1f0c1e-0000-4000-8000-000000000002"
ENROLMENT_ID = "5b1f0c1e-0000-4000-8000-000000000003"
CHILD_ID = "c41d0000-0000-4000-8000-000000000004"
THREAD_ID = "7a7a0000-0000-4000-8000-000000000005"
REVIEW_ID = "4e4e0000-0000-4000-8000-000000000006"
KK = catalogue("kk")
PROGRAMME = {
    "id": PROGRAMME_ID,
    "provider_id": PROVIDER_ID,
    "status": "published",
    "direction": "sports",
    "title": {"kk": "Жүзу", "ru": "Плавание", "en": "Swimming"},
    "age_min": 6,
    "age_max": 12,
    "sessions_per_month": 8,
    "price_per_month_tiyn": 1_200_000,
    "capacity": 10,
    "free_seats": 9,
    "address": "Kabanbay Batyr 45",
    "schedule": [
        {"weekday": 2, "start": "16:00:00", "end": "17:00:00"},
        {"weekday": 4, "start": "16:00", "end": "17:00"},
    ],
}
ENROLMENT = {
    "id": ENROLMENT_ID,
    "programme_id": PROGRAMME_ID,
    "provider_id": PROVIDER_ID,
    "child_id": CHILD_ID,
    "status": "confirmed",
    "reason": None,
    "voucher_id": None,
    "requested_at": "2026-12-01T10:00:00Z",
    "confirmed_at": "2026-12-01T10:00:05Z",
    "ended_at": None,
}


Services = FakeApis


@pytest.fixture
def services() -> Services:
    found = Services()
    found.on("GET", f"/v1/providers/{PROVIDER_ID}/programmes", 200, {"items": [PROGRAMME], "total": 1})
    found.on("GET", f"/v1/providers/{PROVIDER_ID}/enrolments", 200, {"items": [ENROLMENT], "total": 1})
    found.on("GET", f"/v1/enrolments/{ENROLMENT_ID}", 200, ENROLMENT)
    return found


@pytest.fixture
def portal(tmp_path: Path, services: Services) -> Iterator[TestClient]:
    """Signed in as the provider's staff member."""
    with portal_client(tmp_path, services) as client:
        services.on(
            "POST", "/v1/auth/staff/login", 200, staff_tokens("provider_staff", {"provider": PROVIDER_ID}, "s-1")
        )
        submit_staff_sign_in(client)
        yield client


def problem(status: int, *errors: tuple[str, str]) -> dict[str, object]:
    return {"status": status, "errors": [{"field": f, "type": t, "message": "in English"} for f, t in errors]}


def test_the_home_page_says_confirmation_is_automatic_and_offers_to_decline_an_active_enrolment(
    portal: TestClient, services: Services
) -> None:
    services.on(
        "GET",
        f"/v1/providers/{PROVIDER_ID}",
        200,
        {
            "id": PROVIDER_ID,
            "name": "Club",
            "status": "verified",
            "bin": "1",
            "address": "a",
            "bank": {"iban": "KZ"},
            "region_code": "astana",
        },
    )
    services.on("GET", f"/v1/providers/{PROVIDER_ID}/attestations/expiring", 200, {"items": []})
    services.on("GET", "/v1/regions/astana/current-period", 200, {"period": "2026-12"})
    home = portal.get("/provider")
    assert home.status_code == 200
    assert KK["provider.enrolments.automatic"] in home.text
    assert f'href="/provider/enrolments/{ENROLMENT_ID}/decline"' in home.text
    assert f'href="/provider/programmes/{PROGRAMME_ID}"' in home.text
    assert "/accept" not in home.text  # catalog has no accepting step: the page offers none


def test_declining_needs_a_reason_and_sends_it_and_a_late_decline_is_told_next_to_the_reason(
    portal: TestClient, services: Services
) -> None:
    path = f"/provider/enrolments/{ENROLMENT_ID}/decline"
    form = portal.get(path)
    assert form.status_code == 200 and 'name="reason"' in form.text and KK["provider.decline.title"] in form.text
    missing = portal.post(path, data={"reason": "  ", "csrf": csrf(portal)})
    assert missing.status_code == 422 and '<p class="field-error" id="reason-error">' in missing.text
    assert not services.called("POST", f"/v1/enrolments/{ENROLMENT_ID}/decline")
    services.on("POST", f"/v1/enrolments/{ENROLMENT_ID}/decline", 409, {"status": 409, "title": "window passed"})
    late = portal.post(path, data={"reason": "full group", "csrf": csrf(portal)})
    assert late.status_code == 422
    assert '<p class="field-error" id="reason-error">' in late.text and KK["errors.conflict"] in late.text
    assert services.sent("POST", f"/v1/enrolments/{ENROLMENT_ID}/decline") == {"reason": "full group"}
    services.on("POST", f"/v1/enrolments/{ENROLMENT_ID}/decline", 200, {**ENROLMENT, "status": "ended"})
    done = portal.post(path, data={"reason": "full group", "csrf": csrf(portal)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/provider?declined=1")


def edited(**changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "weekday": ["2", "4"],
        "start": "16:00",
        "end": "17:00",
        "title_kk": "Жүзу",
        "title_ru": "Плавание",
        "title_en": "Swimming",
        "age_min": "6",
        "age_max": "12",
        "sessions_per_month": "8",
        "price": "12000",
        "capacity": "10",
        "address": "Kabanbay Batyr 45",
    }
    return {**form, **changes}


def test_a_programme_change_sends_only_what_changed_and_catalogs_refusal_lands_next_to_the_field(
    portal: TestClient, services: Services
) -> None:
    path = f"/provider/programmes/{PROGRAMME_ID}"
    form = portal.get(path)
    assert form.status_code == 200 and 'id="capacity"' in form.text and 'value="12000"' in form.text
    services.on("PATCH", f"/v1/programmes/{PROGRAMME_ID}", 422, problem(422, ("price_per_month_tiyn", "invalid")))
    refused = portal.post(path, data={**edited(capacity="12", price="13000"), "csrf": csrf(portal)})
    assert refused.status_code == 422 and '<p class="field-error" id="price-error">' in refused.text
    assert 'value="13000"' in refused.text  # what was typed stays
    assert services.sent("PATCH", f"/v1/programmes/{PROGRAMME_ID}") == {
        "capacity": 12,
        "price_per_month_tiyn": 1_300_000,
    }
    services.on("PATCH", f"/v1/programmes/{PROGRAMME_ID}", 200, PROGRAMME)
    saved = portal.post(path, data={**edited(capacity="12"), "csrf": csrf(portal)}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"{path}?saved=1"
    empty = portal.post(path, data={**edited(title_ru="", capacity="x"), "csrf": csrf(portal)})
    assert empty.status_code == 422
    assert 'id="title_ru-error"' in empty.text and 'id="capacity-error"' in empty.text
    assert KK["provider.programme_edit.saved"] in portal.get(f"{path}?saved=1").text


def test_the_schedule_is_sent_only_when_its_days_or_time_change(portal: TestClient, services: Services) -> None:
    path = f"/provider/programmes/{PROGRAMME_ID}"
    services.on("PATCH", f"/v1/programmes/{PROGRAMME_ID}", 200, PROGRAMME)
    form = portal.get(path).text
    assert 'name="weekday" value="2" checked' in form and 'name="weekday" value="3" >' in form
    assert 'value="16:00"' in form
    portal.post(path, data={**edited(weekday=["2", "4", "6"], start="17:00", end="18:00"), "csrf": csrf(portal)})
    assert services.sent("PATCH", f"/v1/programmes/{PROGRAMME_ID}") == {
        "schedule": [
            {"weekday": 2, "start": "17:00", "end": "18:00"},
            {"weekday": 4, "start": "17:00", "end": "18:00"},
            {"weekday": 6, "start": "17:00", "end": "18:00"},
        ]
    }
    services.seen.clear()
    with_tiyn = {**PROGRAMME, "price_per_month_tiyn": 1_200_050}
    services.on("GET", f"/v1/providers/{PROVIDER_ID}/programmes", 200, {"items": [with_tiyn]})
    unchanged = portal.post(path, data={**edited(), "csrf": csrf(portal)}, follow_redirects=False)
    assert unchanged.status_code == 303 and not services.called("PATCH", f"/v1/programmes/{PROGRAMME_ID}")
    no_days = portal.post(path, data={**edited(weekday=[]), "csrf": csrf(portal)})
    assert no_days.status_code == 422 and 'id="schedule-error"' in no_days.text


def test_closing_a_programme_asks_for_the_confirmation_then_tells_how_many_enrolments_ended(
    portal: TestClient, services: Services
) -> None:
    path = f"/provider/programmes/{PROGRAMME_ID}/close"
    unconfirmed = portal.post(path, data={"csrf": csrf(portal)})
    assert unconfirmed.status_code == 422 and '<p class="field-error" id="confirm-error">' in unconfirmed.text
    assert not services.called("POST", f"/v1/programmes/{PROGRAMME_ID}/close")
    services.on("POST", f"/v1/programmes/{PROGRAMME_ID}/close", 200, {"enrolments_ended": 3})
    closed = portal.post(path, data={"confirm": "yes", "csrf": csrf(portal)}, follow_redirects=False)
    assert closed.status_code == 303 and closed.headers["location"] == f"/provider/programmes/{PROGRAMME_ID}?closed=3"
    services.on("GET", f"/v1/providers/{PROVIDER_ID}/programmes", 200, {"items": [{**PROGRAMME, "status": "closed"}]})
    page = portal.get(f"/provider/programmes/{PROGRAMME_ID}?closed=3")
    assert KK["provider.programme_edit.closed"].format(count=3) in page.text
    assert KK["provider.programme_edit.closed_note"] in page.text and 'name="capacity"' not in page.text


def test_a_parents_message_is_read_and_answered_in_the_pages_language(portal: TestClient, services: Services) -> None:
    thread = {
        "thread_id": THREAD_ID,
        "object_type": "enrolment",
        "object_id": ENROLMENT_ID,
        "counterpart": "provider",
        "child_id": CHILD_ID,
        "started_at": "2026-12-02T09:00:00Z",
        "your_side": "provider_staff",
    }
    message = {
        "message_id": "m-1",
        "thread_id": THREAD_ID,
        "author_side": "guardian",
        "language": "ru",
        "text": "Нужна ли сменная обувь?",
        "posted_at": "2026-12-02T09:00:00Z",
    }
    services.on("GET", "/v1/threads", 200, {"items": [thread], "total": 1})
    services.on("GET", f"/v1/threads/{THREAD_ID}", 200, thread)
    services.on("GET", f"/v1/threads/{THREAD_ID}/messages", 200, {"items": [message], "total": 1})
    services.on("POST", f"/v1/threads/{THREAD_ID}/read", 200, {})
    listing = portal.get("/provider/threads")
    assert listing.status_code == 200 and f'href="/provider/threads/{THREAD_ID}"' in listing.text
    assert CHILD_ID[:8] in listing.text  # the registry does not answer: the child's short id
    services.on(
        "GET", f"/v1/providers/{PROVIDER_ID}/children", 200, {"items": [{"id": CHILD_ID, "name": "Айгерим С."}]}
    )
    listing = portal.get("/provider/threads")
    assert "Айгерим С." in listing.text
    assert "Жүзу" in listing.text  # the enrolment's programme, in the page's language
    shown = portal.get(f"/provider/threads/{THREAD_ID}")
    assert "Нужна ли сменная обувь?" in shown.text and services.called("POST", f"/v1/threads/{THREAD_ID}/read")
    empty = portal.post(f"/provider/threads/{THREAD_ID}/messages", data={"text": "", "csrf": csrf(portal)})
    assert empty.status_code == 422 and '<p class="field-error" id="text-error">' in empty.text
    services.on("POST", f"/v1/threads/{THREAD_ID}/messages", 201, {**message, "author_side": "provider_staff"})
    sent = portal.post(
        f"/provider/threads/{THREAD_ID}/messages", data={"text": "Да", "csrf": csrf(portal)}, follow_redirects=False
    )
    assert sent.status_code == 303
    assert services.sent("POST", f"/v1/threads/{THREAD_ID}/messages") == {"language": "kk", "text": "Да"}


def test_a_review_is_answered_once_and_a_second_answer_is_told_next_to_that_reviews_field(
    portal: TestClient, services: Services
) -> None:
    review = {
        "id": REVIEW_ID,
        "rating": 4,
        "text": "Good coach",
        "answer": None,
        "created_at": "2026-12-03T10:00:00Z",
        "updated_at": "2026-12-03T10:00:00Z",
    }
    services.on("GET", f"/v1/programmes/{PROGRAMME_ID}/reviews", 200, {"items": [review], "total": 1})
    listing = portal.get("/provider/reviews")
    assert listing.status_code == 200 and "Good coach" in listing.text
    assert f'action="/provider/reviews/{REVIEW_ID}/answer"' in listing.text
    path = f"/provider/reviews/{REVIEW_ID}/answer"
    empty = portal.post(path, data={"text": " ", "csrf": csrf(portal)})
    assert empty.status_code == 422 and f'<p class="field-error" id="answer-{REVIEW_ID}-error">' in empty.text
    services.on("POST", f"/v1/reviews/{REVIEW_ID}/answer", 409, {"status": 409, "title": "answered already"})
    twice = portal.post(path, data={"text": "Thanks", "csrf": csrf(portal)})
    assert twice.status_code == 422 and f'id="answer-{REVIEW_ID}-error"' in twice.text
    assert KK["errors.conflict"] in twice.text and ">Thanks</textarea>" in twice.text
    services.on("POST", f"/v1/reviews/{REVIEW_ID}/answer", 200, {**review, "answer": "Thanks"})
    done = portal.post(path, data={"text": "Thanks", "csrf": csrf(portal)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/provider/reviews?answered=1")
    assert services.sent("POST", f"/v1/reviews/{REVIEW_ID}/answer") == {"text": "Thanks"}
    services.on(
        "GET", f"/v1/programmes/{PROGRAMME_ID}/reviews", 200, {"items": [{**review, "answer": "Thanks"}], "total": 1}
    )
    answered = portal.get("/provider/reviews?answered=1")
    assert (
        KK["provider.reviews.answered"] in answered.text
        and f'action="/provider/reviews/{REVIEW_ID}' not in answered.text
    )
