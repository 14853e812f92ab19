"""The parent's journey in a real browser, entirely in Kazakh: from signing in to a confirmed month of attendance.

A parent signs in with IIN and the SMS code, registers two children (a wrong IIN first: told next to the field),
declares a priority category for the first with its document (a text file first: the registry's refusal next to
the file) and applies for both in a round of the journey's own region with one sports voucher in their district.
Through the APIs, as the staff's own pages would: an operator verifies the category, an administrator closes and
allocates the round. The home page then shows one child awarded and the other waitlisted, and the waitlisted one's
explanation (score, rank, quota, the last voucher's rank and score, the outcome). The parent finds a programme in
the catalogue and enrols the awarded child, then changes club to another programme of the same direction; "next
month" the provider marks and submits the group's month through the attendance API, and the parent confirms it.
Then the page in Russian. Screenshots of each key page; axe-core on each main page.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from portal.i18n import catalogue
from qosym_cli.stack import LocalStack
from tests.browser.support import (
    axe_violations,
    entered_off_the_loop,
    off_the_loop,
    readme_screenshot,
    reload_until,
    sign_in_parent,
    sign_in_staff,
    sms_code,
)
from tests.support.journeys import (
    EVERY_DAY,
    ZONE,
    bearer,
    client,
    close_and_allocate,
    configure_region,
    next_month_at,
    open_round,
    publish_programme,
    verified_provider,
)
from tests.support.people import register_person, synthetic_iin
from tests.support.stack_ops import shifted_clock
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def open_round_of(stack: LocalStack, token: Callable[..., str], region: str, district: str) -> str:
    """An administrator's round of the region, open now, with one sports voucher in the district (budget for two)."""
    with client(stack, "allocation") as allocation:
        config = allocation.get(f"/v1/regions/{region}").json()["config"]
        cost = config["voucher"]["monthly_value"]["sports"] * config["voucher"]["months"]
        name = f"Көктем {uuid.uuid4().hex[:6]}"
        admin = bearer(token("administrator"))
        return open_round(allocation, admin, region, {district: {"sports": 1}}, budget_tiyn=cost * 2, name=name)


def register_child_in_the_browser(
    page: Page, kk: dict[str, str], registry: httpx.Client, parent: dict[str, str], region: str, iin: str
) -> str:
    """On the new-child page: the child's IIN, region and district; returns the new child's id (the registry's)."""
    before = {c["id"] for c in registry.get("/v1/children", headers=parent).json()["items"]}
    page.get_by_label(kk["parent.child_new.iin"], exact=True).fill(iin)
    page.get_by_label(kk["parent.child_new.region"], exact=True).select_option(region)
    page.get_by_label(kk["parent.child_new.district"], exact=True).select_option("yesil")
    page.get_by_role("button", name=kk["parent.child_new.submit"]).click()
    expect(page.get_by_role("status").filter(has_text=kk["parent.home.child_registered"])).to_be_visible()
    [child_id] = {c["id"] for c in registry.get("/v1/children", headers=parent).json()["items"]} - before
    return str(child_id)


def apply_in_the_browser(page: Page, kk: dict[str, str], portal_url: str, child_id: str) -> None:
    """From the home page's children panel: the child's apply link (once allocation knows the child), sports."""
    page.goto(f"{portal_url}/parent")
    apply = page.locator(f"#children li[data-child-id='{child_id}']").get_by_role(
        "link", name=kk["parent.children.apply"]
    )
    expect(apply).to_be_visible(timeout=60_000)  # allocation learns the child from the registry's event
    apply.click()
    expect(page.get_by_role("heading", name=kk["parent.apply.title"], level=1)).to_be_visible()
    page.get_by_label(kk["direction.sports"]).check()
    page.get_by_role("button", name=kk["parent.apply.submit"]).click()
    expect(page.get_by_role("status").filter(has_text=kk["parent.home.applied"])).to_be_visible()


def fact(scope: Any, label: str) -> Any:
    """The value (``dd``) of the fact whose term (``dt``) reads ``label`` in a ``dl.facts``."""
    return scope.locator("dl.facts > div").filter(has=scope.page.get_by_text(label, exact=True)).locator("dd")


@pytest.mark.timeout(900)  # a region, a round, two children, a category, an enrolment, a change of club and a month
def test_a_parent_goes_from_signing_in_to_a_confirmed_month_and_sees_why_a_child_is_waitlisted_all_in_kazakh(
    page: Page,
    portal_url: str,
    running_stack: LocalStack,
    registry: httpx.Client,
    notifications: httpx.Client,
    token: Callable[..., str],
    screenshot: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    kk = catalogue("kk")
    stack = running_stack
    code = f"kkparent-{uuid.uuid4().hex[:6]}"
    off_the_loop(lambda: configure_region(stack, token, code))
    round_id = open_round_of(stack, token, code, "yesil")
    person_id, parent_iin = register_person(registry, token)
    reader = token("parent", person_id)  # only to read the SMS the local stand-in put into the inbox
    parent = bearer(reader)  # and, in the test's own checks, to learn the ids the pages were given

    page.goto(f"{portal_url}/login")
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    expect(page.get_by_role("heading", name=kk["auth.login.title"])).to_be_visible()
    assert axe_violations(page) == []
    screenshot("parent-login-kk")

    def code_from_the_local_phone() -> str:
        """As a newcomer reads it: from the code page's local phone (the SMS stand-in's texts, newest first), which
        must show the very code the person's inbox holds."""
        newest = page.locator("#dev-phone .dev-text").first
        expect(newest).to_contain_text(sms_code(notifications, reader), timeout=30_000)
        assert axe_violations(page) == []
        screenshot("parent-code-kk")
        found = re.search(r"\b(\d{6})\b", newest.inner_text())
        assert found, newest.inner_text()
        return found.group(1)

    sign_in_parent(page, portal_url, parent_iin, code_from_the_local_phone, kk)
    expect(page).to_have_url(re.compile(r"/parent$"))
    expect(page.get_by_role("heading", name=kk["parent.home.title"], level=1)).to_be_visible()

    # --- two children: a wrong IIN first, told next to it in Kazakh --------------------------------------------
    page.get_by_role("link", name=kk["parent.children.register"]).click()
    expect(page.get_by_role("heading", name=kk["parent.child_new.title"], level=1)).to_be_visible()
    page.get_by_label(kk["parent.child_new.iin"], exact=True).fill("123")
    page.get_by_label(kk["parent.child_new.region"], exact=True).select_option(code)
    page.get_by_label(kk["parent.child_new.district"], exact=True).select_option("yesil")
    page.get_by_role("button", name=kk["parent.child_new.submit"]).click()
    iin_field = page.get_by_label(kk["parent.child_new.iin"], exact=True)
    expect(iin_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#iin-error")).to_be_visible()
    expect(page.locator("#iin-error")).to_have_text(kk["errors.iin_format"])  # the registry's code, in Kazakh
    assert axe_violations(page) == []
    screenshot("parent-child-error-kk")
    first = register_child_in_the_browser(page, kk, registry, parent, code, synthetic_iin(date(2017, 3, 9), "F"))
    page.get_by_role("link", name=kk["parent.children.register"]).click()
    second = register_child_in_the_browser(page, kk, registry, parent, code, synthetic_iin(date(2018, 6, 21), "M"))
    expect(page.locator("#children li[data-child-id]")).to_have_count(2)

    # --- the first child's category with its document: a text file first, refused next to the file ----------------
    page.locator(f"#children li[data-child-id='{first}']").get_by_role(
        "link", name=kk["parent.children.categories"]
    ).click()
    expect(page.get_by_role("heading", name=kk["parent.categories.title"], level=1)).to_be_visible()
    expect(page.get_by_text(kk["parent.categories.none"])).to_be_visible()
    note = tmp_path / "anyqtama.txt"
    note.write_text("көпбалалы отбасы туралы анықтама", encoding="utf-8")
    page.get_by_label(kk["parent.categories.code"], exact=True).select_option("large_family")
    page.get_by_label(kk["parent.categories.file"], exact=True).set_input_files(str(note))
    page.get_by_role("button", name=kk["parent.categories.submit"]).click()
    expect(page.get_by_label(kk["parent.categories.file"], exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#file-error")).to_have_text(kk["errors.evidence_type"])  # the registry's refusal
    expect(page.get_by_label(kk["parent.categories.code"], exact=True)).to_have_value("large_family")
    assert axe_violations(page) == []
    screenshot("parent-category-error-kk")
    document = tmp_path / "anyqtama.pdf"
    document.write_bytes(PDF)
    page.get_by_label(kk["parent.categories.file"], exact=True).set_input_files(str(document))
    page.get_by_role("button", name=kk["parent.categories.submit"]).click()
    expect(page.get_by_role("status").filter(has_text=kk["parent.categories.declared_note"])).to_be_visible()
    claim = page.locator("#claims li[data-code='large_family']")
    expect(claim).to_contain_text(kk["category.large_family"])
    expect(claim.locator(".status")).to_have_attribute("data-status", "declared")
    expect(claim.locator(".status")).to_have_text(kk["parent.category_status.declared"])

    # --- an operator of the region verifies it (their own pages are not the parent's journey) ------------------
    operator = bearer(token("operator", scope={"region": code}))
    waiting = registry.get("/v1/review/categories", headers=operator).json()["items"]
    [claim_id] = [c["id"] for c in waiting if c["child_id"] == first]
    verified = registry.post(f"/v1/categories/{claim_id}/verify", json={"reason": "certificate seen"}, headers=operator)
    assert verified.status_code == 200, verified.text
    page.reload()
    expect(claim.locator(".status")).to_have_attribute("data-status", "verified")
    expect(claim.locator(".status")).to_have_text(kk["parent.category_status.verified"])
    assert axe_violations(page) == []
    screenshot("parent-categories-kk")
    with client(stack, "allocation") as allocation:  # allocation learns the verified set from the registry's event
        eventually(
            lambda: allocation.get(f"/v1/children/{first}", headers=parent).json().get("verified_categories"),
            timeout_s=60,
        )

    # --- both children apply; the round is allocated: one voucher for the district's sports --------------------
    apply_in_the_browser(page, kk, portal_url, first)
    screenshot("parent-apply-kk")
    apply_in_the_browser(page, kk, portal_url, second)
    expect(page.locator("#applications .status[data-status='submitted']")).to_have_count(2)
    with client(stack, "allocation") as allocation:
        allocated = close_and_allocate(allocation, bearer(token("administrator")), round_id)
    assert allocated["awarded"] == 1, allocated

    page.reload()
    expect(page.locator("#applications .status[data-status='awarded']")).to_have_count(1)
    expect(page.locator("#applications .status[data-status='awarded']")).to_have_text(kk["status.awarded"])
    waitlisted = page.locator("#applications li.application").filter(
        has=page.locator(".status[data-status='waitlisted']")
    )
    expect(waitlisted).to_have_count(1)
    expect(waitlisted.locator(".status")).to_have_text(kk["status.waitlisted"])
    awarded = page.locator("#applications li.application").filter(has=page.locator(".status[data-status='awarded']"))
    awarded.get_by_text(kk["parent.explanation.title"]).click()
    expect(fact(awarded, kk["category.large_family"])).to_have_text("+60")  # the category counted
    waitlisted.get_by_text(kk["parent.explanation.title"]).click()
    why = waitlisted.locator("details.explanation")
    expect(fact(why, kk["parent.explanation.score"])).to_have_text("0")
    expect(fact(why, kk["parent.explanation.rank"])).to_have_text("2")
    expect(fact(why, kk["parent.explanation.quota"])).to_have_text("1")
    expect(fact(why, kk["parent.explanation.cutoff"])).to_have_text(
        kk["parent.explanation.cutoff_value"].format(rank=1, score=60)
    )
    expect(why.get_by_text(kk["outcome.waitlisted"])).to_be_visible()
    expect(fact(waitlisted, kk["parent.applications.waitlist_position"])).to_have_text("1")
    assert axe_violations(page) == []
    screenshot("parent-home-kk")
    readme_screenshot(page, "parent")

    # --- a verified provider's two every-day sports groups (set up through the APIs) -------------------------
    provider = verified_provider(stack, token, region=code)
    swimming = publish_programme(
        stack,
        provider,
        title={"kk": f"Жүзу {code[-6:]}", "ru": "Плавание", "en": "Swimming"},
        schedule=EVERY_DAY,
        sessions_per_month=30,
    )
    football = publish_programme(
        stack,
        provider,
        title={"kk": f"Футбол {code[-6:]}", "ru": "Футбол", "en": "Football"},
        schedule=[slot | {"start": "18:00", "end": "19:00"} for slot in EVERY_DAY],  # the same coach, later
        sessions_per_month=30,
    )

    # --- the parent finds the programme in the catalogue and enrols the awarded child -------------------------
    page.get_by_role("navigation", name=kk["parent.nav.label"]).get_by_role(
        "link", name=kk["parent.nav.catalogue"]
    ).click()
    expect(page.get_by_role("heading", name=kk["parent.catalogue.title"], level=1)).to_be_visible()
    assert axe_violations(page) == []
    screenshot("parent-catalogue-kk")
    page.get_by_role("link", name=swimming["title"]["kk"]).click()
    expect(page.get_by_role("heading", name=swimming["title"]["kk"], level=1)).to_be_visible()
    page.get_by_label(kk["parent.programme.child"], exact=True).select_option(first)
    assert axe_violations(page) == []
    screenshot("parent-programme-kk")
    page.get_by_role("button", name=kk["parent.programme.enrol_submit"]).click()
    expect(page.get_by_role("status").filter(has_text=kk["parent.enrolments.requested_note"])).to_be_visible()
    in_swimming = page.locator(f"#enrolments li[data-programme-id='{swimming['id']}']")
    expect(in_swimming).to_contain_text(swimming["title"]["kk"])
    expect(in_swimming.locator(".status")).to_have_attribute("data-status", "confirmed", timeout=60_000)

    # --- then changes club: another group of the same direction, the voucher moves -----------------------------
    in_swimming.get_by_text(kk["parent.enrolments.change"], exact=True).click()
    in_swimming.get_by_label(kk["parent.enrolments.change_to"], exact=True).select_option(football["id"])
    in_swimming.get_by_label(kk["parent.enrolments.change_reason"], exact=True).fill("үйге жақын")
    in_swimming.get_by_role("button", name=kk["parent.enrolments.change_submit"]).click()
    expect(page.get_by_role("status").filter(has_text=kk["parent.enrolments.changing_note"])).to_be_visible()
    in_football = page.locator(f"#enrolments li[data-programme-id='{football['id']}']")
    expect(in_football.locator(".status")).to_have_attribute("data-status", "confirmed", timeout=60_000)
    expect(in_swimming.locator(".status")).to_have_attribute("data-status", "ended")
    assert axe_violations(page) == []
    screenshot("parent-enrolments-kk")

    # --- next month: the provider marks and submits the month (attendance's API); the parent confirms it ---------
    period = datetime.now(UTC).astimezone(ZONE).strftime("%Y-%m")
    group = f"/v1/programmes/{football['id']}/timesheets/{period}"
    with client(stack, "attendance") as attendance:

        def group_size() -> int:
            sheet = attendance.get(group, headers=provider.headers)
            return len(sheet.json()["enrolments"]) if sheet.status_code == 200 else 0

        eventually(lambda: group_size() == 1, timeout_s=90)
        offset = int((next_month_at(datetime.now(UTC), ZONE) - datetime.now(UTC)).total_seconds())
        with entered_off_the_loop(shifted_clock(stack, ("attendance",), roles=("api",), offset_s=offset)):
            marked = attendance.put(f"{group}/marks", json={"all_scheduled": "attended"}, headers=provider.headers)
            assert marked.status_code == 200, marked.text
            submitted = attendance.post(f"{group}/submit", headers=provider.headers)
            assert submitted.status_code == 200, submitted.text

            page.get_by_role("navigation", name=kk["parent.nav.label"]).get_by_role(
                "link", name=kk["parent.nav.attendance"]
            ).click()
            month = page.locator("#months tr[data-timesheet-id]").filter(has_text=football["title"]["kk"])
            reload_until(page, month)  # attendance was just restarted on next month's clock
            expect(month.locator("[data-status]")).to_have_attribute("data-status", "submitted")
            assert axe_violations(page) == []
            month.get_by_role("link", name=period).click()
            page.get_by_role("button", name=kk["parent.attendance.confirm"]).click()
            expect(page.get_by_role("status").filter(has_text=kk["parent.attendance.confirmed_note"])).to_be_visible()
            assert axe_violations(page) == []
            screenshot("parent-month-confirmed-kk")
            page.get_by_role("navigation", name=kk["parent.nav.label"]).get_by_role(
                "link", name=kk["parent.nav.attendance"]
            ).click()
            expect(month.locator("[data-status]")).to_have_attribute("data-status", "confirmed")
            expect(month.locator("[data-status]")).to_have_text(kk["parent.timesheet_status.confirmed"])

    # --- the same home page in Russian -----------------------------------------------------------------------
    ru = catalogue("ru")
    page.get_by_role("navigation", name=kk["parent.nav.label"]).get_by_role("link", name=kk["parent.nav.home"]).click()
    page.get_by_role("link", name="Русский").click()
    expect(page.get_by_role("heading", name=ru["parent.home.title"], level=1)).to_be_visible()
    expect(page.locator("#applications .status[data-status='waitlisted']")).to_have_text(ru["status.waitlisted"])


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_sign_in_pages_are_accessible_in_every_language(page: Page, portal_url: str, language: str) -> None:
    words = catalogue(language)
    page.goto(f"{portal_url}/lang/{language}?next=/login")
    expect(page.get_by_role("heading", name=words["auth.login.title"])).to_be_visible()
    page.get_by_role("button", name=words["auth.login.send_code"]).click()  # empty: the error is next to the field
    expect(page.get_by_label(words["auth.iin"], exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#iin-error")).to_have_text(words["errors.missing"])
    assert axe_violations(page) == []
    page.goto(f"{portal_url}/staff/login")
    expect(page.get_by_role("heading", name=words["auth.staff.title"])).to_be_visible()
    assert axe_violations(page) == []


def test_an_administrator_signs_in_with_password_and_totp(
    page: Page, portal_url: str, new_staff: Callable[..., object], screenshot: Callable[[str], Path]
) -> None:
    en = catalogue("en")
    administrator = new_staff("administrator")
    page.goto(f"{portal_url}/lang/en?next=/staff/login")
    sign_in_staff(page, portal_url, administrator, en)  # type: ignore[arg-type]
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.get_by_role("heading", name=en["admin.home.title"], level=1)).to_be_visible()
    expect(page.get_by_role("cell", name=en["round_state.open"]).first).to_be_visible()  # the demo rounds
    screenshot("admin-home-en")
