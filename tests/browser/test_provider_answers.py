"""The provider answering families in a real browser, in Russian: declining an enrolment with a reason, answering a
parent's message, changing one programme and closing another, answering a review.

The family's side, the organisation and its programmes are set up through the APIs (tests/support/journeys.py); the
provider's staff member acts only in the portal. A review needs a confirmed month with an attended session: the
month is marked and submitted through attendance's API running "next month" (shifted_clock), and the parent
confirms it, as in the provider's journey. Screenshots of each new page; axe-core on each (no serious or critical
violation).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from portal.i18n import catalogue
from qosym_cli.stack import LocalStack
from tests.browser.support import Staff, axe_violations, entered_off_the_loop, off_the_loop, sign_in_staff
from tests.support.journeys import (
    ZONE,
    award_vouchers,
    bearer,
    client,
    configure_region,
    enrol,
    new_family,
    next_month_at,
    publish_programme,
    verified_provider,
)
from tests.support.stack_ops import shifted_clock
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
EVERY_DAY = [{"weekday": d, "start": "16:00", "end": "17:00"} for d in range(1, 8)]
EVENINGS = [{"weekday": d, "start": "18:00", "end": "19:00"} for d in range(1, 8)]  # the same coach, later
SWIMMING = {"kk": "Жүзу", "ru": "Плавание", "en": "Swimming"}
CHESS = {"kk": "Шахмат", "ru": "Шахматы", "en": "Chess"}


@pytest.mark.timeout(900)  # a round, two enrolments and a month confirmed "next month" on the embedded stack
def test_a_provider_declines_a_request_answers_a_parent_changes_and_closes_programmes_and_answers_a_review(
    page: Page,
    portal_url: str,
    running_stack: LocalStack,
    token: Callable[..., str],
    new_staff: Callable[..., Staff],
    screenshot: Callable[[str], Path],
) -> None:
    ru = catalogue("ru")
    stack = running_stack
    region_code = f"answershire-{uuid.uuid4().hex[:6]}"
    off_the_loop(lambda: configure_region(stack, token, region_code))
    family = new_family(stack, token, children=2, region=region_code, names=("Арман К.", "Дана К."))
    award_vouchers(stack, token, [family], region=region_code)
    provider = verified_provider(stack, token, region=region_code)
    swimming = publish_programme(
        stack, provider, title=SWIMMING, schedule=EVERY_DAY, sessions_per_month=30, capacity=10
    )
    chess = publish_programme(stack, provider, title=CHESS, schedule=EVENINGS, sessions_per_month=30, capacity=8)
    first, second = family.children
    staying = enrol(stack, family, first, str(swimming["id"]))
    declined = enrol(stack, family, second, str(chess["id"]))  # the saga confirms it with the voucher at once

    staff = new_staff("provider_staff", {"provider": provider.id})
    page.goto(f"{portal_url}/lang/ru?next=/staff/login")
    sign_in_staff(page, portal_url, staff, ru)
    expect(page).to_have_url(re.compile(r"/provider$"))

    # --- an enrolment declined with a reason --------------------------------------------------------------------
    expect(page.locator("#enrolments-note")).to_have_text(ru["provider.enrolments.automatic"])
    row = page.locator("#enrolments tbody tr").filter(has_text="Шахматы")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "confirmed")
    row.get_by_role("link", name=ru["provider.enrolments.decline"]).click()
    expect(page.get_by_role("heading", name=ru["provider.decline.title"], level=1)).to_be_visible()
    page.get_by_role("button", name=ru["provider.decline.submit"]).click()  # no reason: told next to the field
    expect(page.get_by_label(ru["provider.decline.reason"], exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#reason-error")).to_have_text(ru["errors.missing"])
    assert axe_violations(page) == []
    page.get_by_label(ru["provider.decline.reason"], exact=True).fill("Группа набрана по возрасту 10–12 лет")
    screenshot("provider-decline-ru")
    page.get_by_role("button", name=ru["provider.decline.submit"]).click()
    expect(page.get_by_role("status").filter(has_text=ru["provider.home.declined"])).to_be_visible()
    row = page.locator("#enrolments tbody tr").filter(has_text="Шахматы")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "ended")
    with client(stack, "catalog") as catalog:
        seen = catalog.get(f"/v1/enrolments/{declined['id']}", headers=family.headers).json()
    assert seen["status"] == "ended" and "Группа набрана" in seen["reason"], seen

    # --- a parent's message answered ----------------------------------------------------------------------------
    question = "Здравствуйте! Нужна ли сменная обувь?"
    with client(stack, "conversations") as conversations:

        def started() -> str | None:
            answer = conversations.post(
                "/v1/threads",
                json={"object_type": "enrolment", "object_id": staying["id"], "with": "provider"},
                headers=family.headers,
            )
            return str(answer.json()["thread_id"]) if answer.status_code in (200, 201) else None

        thread_id = eventually(started, timeout_s=60)  # conversations learns the enrolment from catalog's events
        posted = conversations.post(
            f"/v1/threads/{thread_id}/messages", json={"language": "ru", "text": question}, headers=family.headers
        )
        assert posted.status_code == 201, posted.text
    nav = page.get_by_role("navigation", name=ru["provider.nav.label"])
    nav.get_by_role("link", name=ru["provider.nav.threads"]).click()
    expect(page.get_by_role("heading", name=ru["provider.threads.title"], level=1)).to_be_visible()
    expect(page.locator("#threads")).to_contain_text("Плавание")
    assert axe_violations(page) == []
    screenshot("provider-threads-ru")
    page.locator("#threads").get_by_role("link").first.click()
    expect(page.locator("#conversation")).to_contain_text(question)
    page.get_by_role("button", name=ru["provider.threads.send"]).click()  # empty: told next to the field
    expect(page.locator("#text-error")).to_have_text(ru["errors.missing"])
    reply = "Да, принесите чешки, пожалуйста."
    page.get_by_label(ru["provider.threads.your_answer"], exact=True).fill(reply)
    page.get_by_role("button", name=ru["provider.threads.send"]).click()
    expect(page.locator("#conversation [data-side=provider_staff]")).to_contain_text(reply)
    assert axe_violations(page) == []
    screenshot("provider-thread-ru")
    with client(stack, "conversations") as conversations:
        messages = conversations.get(f"/v1/threads/{thread_id}/messages", headers=family.headers).json()["items"]
    assert [(m["author_side"], m["text"]) for m in messages] == [("guardian", question), ("provider_staff", reply)]

    # --- a programme changed (places), another closed ----------------------------------------------------------
    nav.get_by_role("link", name=ru["provider.nav.home"]).click()
    page.locator("#programmes li").filter(has_text="Плавание").get_by_role(
        "link", name=ru["provider.programmes.edit"]
    ).click()
    expect(page.get_by_role("heading", name=ru["provider.programme_edit.title"], level=1)).to_be_visible()
    places = page.get_by_label(ru["provider.programme_new.capacity"], exact=True)
    expect(places).to_have_value("10")
    places.fill("0")  # below one place: catalog's refusal next to the field
    page.get_by_role("button", name=ru["provider.programme_edit.submit"]).click()
    expect(places).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#capacity-error")).to_be_visible()
    places.fill("12")
    page.get_by_label(ru["provider.programme_new.price"], exact=True).fill("13000")
    page.get_by_role("button", name=ru["provider.programme_edit.submit"]).click()
    expect(page.get_by_role("status").filter(has_text=ru["provider.programme_edit.saved"])).to_be_visible()
    expect(places).to_have_value("12")
    assert axe_violations(page) == []
    screenshot("provider-programme-edit-ru")
    with client(stack, "catalog") as catalog:
        changed = catalog.get(f"/v1/programmes/{swimming['id']}").json()
    assert (changed["capacity"], changed["price_per_month_tiyn"]) == (12, 1_300_000), changed

    nav.get_by_role("link", name=ru["provider.nav.home"]).click()
    page.locator("#programmes li").filter(has_text="Шахматы").get_by_role(
        "link", name=ru["provider.programmes.edit"]
    ).click()
    page.get_by_role("button", name=ru["provider.programme_edit.close_submit"]).click()  # not confirmed yet
    expect(page.locator("#confirm-error")).to_have_text(ru["errors.missing"])
    page.get_by_label(ru["provider.programme_edit.close_confirm"], exact=True).check()
    page.get_by_role("button", name=ru["provider.programme_edit.close_submit"]).click()
    expect(
        page.get_by_role("status").filter(has_text=ru["provider.programme_edit.closed"].format(count=0))
    ).to_be_visible()
    expect(page.locator("#programme-status")).to_have_attribute("data-status", "closed")
    nav.get_by_role("link", name=ru["provider.nav.home"]).click()
    expect(page.locator("#programmes li").filter(has_text="Шахматы").locator("[data-status]")).to_have_attribute(
        "data-status", "closed"
    )

    # --- a confirmed month (attendance "next month"), the parent's review, the provider's answer ----------------
    period = datetime.now(UTC).astimezone(ZONE).strftime("%Y-%m")
    provider_headers = bearer(token("provider_staff", scope={"provider": provider.id}))
    sheet_path = f"/v1/programmes/{swimming['id']}/timesheets/{period}"

    def group_size() -> int:
        with client(stack, "attendance") as attendance:
            sheet = attendance.get(sheet_path, headers=provider_headers)
        return len(sheet.json()["enrolments"]) if sheet.status_code == 200 else 0

    eventually(lambda: group_size() == 1, timeout_s=90)  # attendance learns the group from catalog's events
    offset = int((next_month_at(datetime.now(UTC), ZONE) - datetime.now(UTC)).total_seconds())
    shifted = shifted_clock(stack, ("attendance",), roles=("api",), offset_s=offset)
    with entered_off_the_loop(shifted), client(stack, "attendance") as attendance:

        def marked() -> bool:  # attendance's API was just restarted on that clock: asked until it answers
            try:
                answer = attendance.put(
                    f"{sheet_path}/marks", json={"all_scheduled": "attended"}, headers=provider_headers
                )
            except httpx.TransportError:
                return False
            return answer.status_code == 200

        eventually(marked, timeout_s=90)
        submitted = attendance.post(f"{sheet_path}/submit", headers=provider_headers)
        assert submitted.status_code == 200, submitted.text
        months = attendance.get("/v1/timesheets", params={"period": period}, headers=family.headers).json()
        [month] = months["items"]
        confirmed = attendance.post(
            "/v1/timesheets/confirm", json={"timesheet_ids": [month["id"]]}, headers=family.headers
        )
        assert confirmed.status_code == 200, confirmed.text
    opinion = "Тренер внимательный, сын ходит с радостью."
    with client(stack, "catalog") as catalog:
        body = {"enrolment_id": staying["id"], "rating": 5, "text": opinion}
        # catalog learns the confirmed month from attendance's event
        eventually(
            lambda: catalog.post("/v1/reviews", json=body, headers=family.headers).status_code == 201, timeout_s=90
        )

    nav.get_by_role("link", name=ru["provider.nav.reviews"]).click()
    expect(page.get_by_role("heading", name=ru["provider.reviews.title"], level=1)).to_be_visible()
    review = page.locator("#reviews .review").filter(has_text=opinion)
    expect(review).to_have_count(1)
    review.get_by_role("button", name=ru["provider.reviews.answer_submit"]).click()  # empty: told next to it
    expect(review.locator(".field-error")).to_have_text(ru["errors.missing"])
    answer = "Спасибо! Ждём на турнире."
    review = page.locator("#reviews .review").filter(has_text=opinion)
    review.get_by_label(ru["provider.reviews.answer_label"], exact=True).fill(answer)
    review.get_by_role("button", name=ru["provider.reviews.answer_submit"]).click()
    expect(page.get_by_role("status").filter(has_text=ru["provider.reviews.answered"])).to_be_visible()
    expect(page.locator("#reviews .review").filter(has_text=opinion).locator(".answer")).to_contain_text(answer)
    assert axe_violations(page) == []
    screenshot("provider-reviews-ru")
    with client(stack, "catalog") as catalog:
        public = catalog.get(f"/v1/programmes/{swimming['id']}/reviews").json()["items"]
    assert [(r["text"], r["answer"]) for r in public] == [(opinion, answer)]
