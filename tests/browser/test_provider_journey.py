"""The provider's journey in a real browser, entirely in Russian: from registering the organisation to seeing an
accrual for a confirmed month.

A provider-staff account with no organisation yet signs in and registers one; an operator verifies it in the
operators' pages; an administrator opens a staff account linked to it on the staff-account page (the password and
TOTP secret shown once). In the portal only, that staff member signs in, records a coach and a
facility with their attestations and publishes an every-day programme. The family's side is set-up through the
APIs (a child holding a voucher of the journey's own region enrols; the parent confirms the month): the provider sees
the enrolment confirmed, marks the group's month in two clicks "next month" (attendance's API runs with its clock a
month on) and, once the parent has confirmed it, the month's accrual on the payments page. Screenshots of the key
pages; axe-core on each main page (no serious or critical violation).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.i18n import catalogue
from qosym_cli.stack import LocalStack
from tests.browser.support import (
    Staff,
    axe_violations,
    entered_off_the_loop,
    mark_month_attended,
    off_the_loop,
    readme_screenshot,
    reload_until,
    sign_in_staff,
    submit_month,
)
from tests.support.journeys import (
    ZONE,
    award_vouchers,
    bearer,
    client,
    configure_region,
    enrol,
    new_family,
    next_month_at,
    synthetic_bin,
)
from tests.support.people import synthetic_adult_iin
from tests.support.stack_ops import shifted_clock
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
CHILD_NAME = "Айгерим С."  # the display name the parent gives: the coach marks the month by it


@pytest.mark.timeout(900)  # a round, a registration and a month marked "next month" on the embedded stack
def test_a_provider_registers_publishes_marks_a_month_and_sees_its_accrual_all_in_russian(
    browser: Browser,
    page: Page,
    portal_url: str,
    running_stack: LocalStack,
    token: Callable[..., str],
    new_staff: Callable[..., Staff],
    screenshot: Callable[[str], Path],
) -> None:
    ru = catalogue("ru")
    stack = running_stack
    region_code = f"provshire-{uuid.uuid4().hex[:6]}"
    off_the_loop(lambda: configure_region(stack, token, region_code))
    family = new_family(stack, token, children=1, region=region_code, names=(CHILD_NAME,))
    award_vouchers(stack, token, [family], region=region_code)
    newcomer = new_staff("provider_staff")  # an account with no organisation yet

    # --- registration, in the browser --------------------------------------------------------------------------
    page.goto(f"{portal_url}/lang/ru?next=/staff/login")
    sign_in_staff(page, portal_url, newcomer, ru)
    expect(page).to_have_url(re.compile(r"/provider$"))
    expect(page.get_by_role("heading", name=ru["provider.register.title"], level=1)).to_be_visible()
    assert axe_violations(page) == []
    name = f"Спортклуб {uuid.uuid4().hex[:6]}"
    page.get_by_label(ru["provider.register.name"], exact=True).fill(name)
    page.get_by_label(ru["provider.register.bin"], exact=True).fill(synthetic_bin())
    page.get_by_label(ru["provider.register.region"], exact=True).select_option(region_code)
    page.get_by_label(ru["provider.register.district"], exact=True).select_option("yesil")
    page.get_by_label(ru["provider.register.address"], exact=True).fill("пр. Кабанбай батыра, 45")
    page.get_by_label(ru["provider.register.phone"], exact=True).fill("+7 701 000 00 00")
    page.get_by_label(ru["provider.register.bank_name"], exact=True).fill("Halyk Bank")
    page.get_by_label(ru["provider.register.bik"], exact=True).fill("HSBKKZKX")
    page.get_by_label(ru["provider.register.iban"], exact=True).fill("KZ86 125K ZT50 0410 0100")
    screenshot("provider-register-ru")
    page.get_by_role("button", name=ru["provider.register.submit"]).click()
    expect(page.get_by_role("heading", name=ru["provider.registered.title"], level=1)).to_be_visible()
    provider_id = page.locator("#provider-id").inner_text().strip()

    # an operator of the region verifies it in the operators' pages, then an administrator opens the staff account
    staff = Staff("", f"club.{uuid.uuid4().hex[:8]}", "", "")
    for role, scope in (("operator", {"region": region_code}), ("administrator", {})):
        official_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
        try:
            official = official_context.new_page()
            official.goto(f"{portal_url}/lang/ru?next=/staff/login")
            sign_in_staff(official, portal_url, new_staff(role, scope), ru)
            expect(official).to_have_url(re.compile(r"/admin$"))
            if role == "operator":
                official.goto(f"{portal_url}/admin/providers?status=pending")
                official.get_by_role("button", name=f"{ru['admin.providers.verify']}: {name}").click()
                expect(official.get_by_role("status").filter(has_text=ru["admin.providers.done"])).to_be_visible()
                continue
            official.goto(f"{portal_url}/admin/staff?provider={provider_id}")  # the verified provider's link
            expect(official.get_by_role("heading", name=ru["admin.staff.title"], level=1)).to_be_visible()
            expect(official.get_by_label(ru["admin.staff.provider"], exact=True)).to_have_value(provider_id)
            official.get_by_label(ru["admin.staff.username"], exact=True).fill(staff.username)
            official.get_by_label(ru["admin.staff.role"], exact=True).select_option("provider_staff")
            assert axe_violations(official) == []
            official.get_by_role("button", name=ru["admin.staff.submit"]).click()
            expect(official.get_by_role("heading", name=ru["admin.staff_created.title"], level=1)).to_be_visible()
            staff = Staff(
                "",
                official.locator("#staff-username").inner_text().strip(),
                official.locator("#staff-password").inner_text().strip(),
                official.locator("#staff-totp-secret").inner_text().strip(),
            )
        finally:
            official_context.close()

    # the organisation's staff member signs in with that account
    sign_in_staff(page, portal_url, staff, ru)
    expect(page).to_have_url(re.compile(r"/provider$"))
    expect(page.get_by_role("heading", name=ru["provider.home.title"], level=1)).to_be_visible()
    expect(page.locator("#organisation [data-status]")).to_have_attribute("data-status", "verified")

    # --- coaches, facilities and attestations --------------------------------------------------------------------
    page.get_by_role("navigation", name=ru["provider.nav.label"]).get_by_role(
        "link", name=ru["provider.nav.team"]
    ).click()
    expect(page.get_by_role("heading", name=ru["provider.team.title"], level=1)).to_be_visible()
    page.get_by_label(ru["provider.team.iin"], exact=True).fill("123")  # a wrong IIN first: told next to it
    page.get_by_label(ru["provider.team.full_name"], exact=True).fill("Айгерим Серикова")
    page.get_by_role("button", name=ru["provider.team.add_staff_submit"]).click()
    expect(page.get_by_label(ru["provider.team.iin"], exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#iin-error")).to_have_text(ru["errors.iin_format"])
    page.get_by_label(ru["provider.team.iin"], exact=True).fill(synthetic_adult_iin())
    page.get_by_role("button", name=ru["provider.team.add_staff_submit"]).click()
    expect(page.get_by_role("status").filter(has_text=ru["provider.team.saved_staff"])).to_be_visible()
    page.get_by_label(ru["provider.team.facility_name"], exact=True).fill("Зал 1")
    page.get_by_label(ru["provider.team.facility_address"], exact=True).fill("пр. Кабанбай батыра, 45")
    page.get_by_label(ru["provider.team.facility_capacity"], exact=True).fill("30")
    page.get_by_role("button", name=ru["provider.team.add_facility_submit"]).click()
    expect(page.get_by_role("status").filter(has_text=ru["provider.team.saved_facility"])).to_be_visible()
    valid_until = str(date.today() + timedelta(days=365))
    for subject, kind in (
        ("Айгерим Серикова", "criminal_record"),
        ("Айгерим Серикова", "qualification"),
        ("Зал 1", "sanitary"),
        ("Зал 1", "fire"),
    ):
        page.get_by_label(ru["provider.team.subject"], exact=True).select_option(label=subject)
        page.get_by_label(ru["provider.team.kind"], exact=True).select_option(kind)
        page.get_by_label(ru["provider.team.number"], exact=True).fill(f"{kind[:3].upper()}-{uuid.uuid4().hex[:6]}")
        page.get_by_label(ru["provider.team.valid_until"], exact=True).fill(valid_until)
        page.get_by_role("button", name=ru["provider.team.add_attestation_submit"]).click()
        expect(page.get_by_role("status").filter(has_text=ru["provider.team.saved_attestation"])).to_be_visible()
    expect(page.locator("#staff")).to_contain_text("Айгерим Серикова")
    expect(page.locator("#facilities")).to_contain_text("Зал 1")
    assert axe_violations(page) == []
    screenshot("provider-team-ru")

    # --- a programme, every day (so the month has sessions to mark whatever the day today) ----------------------
    page.get_by_role("navigation", name=ru["provider.nav.label"]).get_by_role(
        "link", name=ru["provider.nav.new_programme"]
    ).click()
    expect(page.get_by_role("heading", name=ru["provider.programme_new.title"], level=1)).to_be_visible()
    for code, title in (("kk", "Жүзу"), ("ru", "Плавание"), ("en", "Swimming")):
        page.get_by_label(ru[f"provider.programme_new.title_in.{code}"], exact=True).fill(title)
    page.get_by_label(ru["provider.programme_new.direction"], exact=True).select_option("sports")
    page.get_by_label(ru["provider.programme_new.language"], exact=True).select_option("ru")
    page.get_by_label(ru["provider.programme_new.age_min"], exact=True).fill("6")
    page.get_by_label(ru["provider.programme_new.age_max"], exact=True).fill("12")
    for day in range(1, 8):
        page.get_by_label(ru[f"parent.weekday.{day}"], exact=True).check()
    page.get_by_label(ru["provider.programme_new.sessions_per_month"], exact=True).fill("30")
    page.get_by_label(ru["provider.programme_new.price"], exact=True).fill("12000")
    page.get_by_label(ru["provider.programme_new.capacity"], exact=True).fill("10")
    page.get_by_label(ru["provider.programme_new.lat"], exact=True).fill("51.1282")
    page.get_by_label(ru["provider.programme_new.lon"], exact=True).fill("71.4304")
    page.get_by_label("Айгерим Серикова", exact=True).check()
    page.get_by_label(ru["provider.programme_new.facility"], exact=True).select_option(label="Зал 1")
    assert axe_violations(page) == []
    page.get_by_role("button", name=ru["provider.programme_new.submit"]).click()
    expect(page.get_by_role("heading", name=ru["provider.programme_published.title"], level=1)).to_be_visible()
    expect(page.locator("#programme [data-status]")).to_have_attribute("data-status", "published")
    screenshot("provider-programme-ru")
    page.get_by_role("navigation", name=ru["provider.nav.label"]).get_by_role(
        "link", name=ru["provider.nav.home"]
    ).click()
    expect(page.locator("#programmes")).to_contain_text("Плавание")  # listed before any child enrols

    # --- set-up through the APIs: the family enrols its child (the saga confirms it with the voucher) ----------
    with client(stack, "catalog") as catalog:
        [programme] = catalog.get("/v1/programmes", params={"region_code": region_code}).json()["items"]
    assert programme["provider_id"] == provider_id
    [child] = family.children
    enrolment = enrol(stack, family, child, str(programme["id"]))
    provider_headers = bearer(token("provider_staff", scope={"provider": provider_id}))
    period = datetime.now(UTC).astimezone(ZONE).strftime("%Y-%m")

    def group_size() -> int:
        with client(stack, "attendance") as attendance:
            sheet = attendance.get(f"/v1/programmes/{programme['id']}/timesheets/{period}", headers=provider_headers)
        return len(sheet.json()["enrolments"]) if sheet.status_code == 200 else 0

    eventually(lambda: group_size() == 1, timeout_s=90)  # attendance learns the group from catalog's events

    def names_known() -> list[str | None]:
        with client(stack, "registry") as registry:
            answer = registry.get(f"/v1/providers/{provider_id}/children", headers=provider_headers)
        return [item["name"] for item in answer.json()["items"]] if answer.status_code == 200 else []

    eventually(lambda: names_known() == [CHILD_NAME], timeout_s=90)  # registry learns it from the same events

    page.get_by_role("navigation", name=ru["provider.nav.label"]).get_by_role(
        "link", name=ru["provider.nav.home"]
    ).click()
    row = page.locator("#enrolments tbody tr").filter(has_text="Плавание")
    expect(row).to_have_count(1)
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "confirmed")
    expect(row).to_contain_text(ru["provider.enrolment_status.confirmed"])
    assert axe_violations(page) == []
    screenshot("provider-home-ru")

    # --- next month: the group's month in two clicks, then the parent confirms it ------------------------------
    offset = int((next_month_at(datetime.now(UTC), ZONE) - datetime.now(UTC)).total_seconds())
    with entered_off_the_loop(shifted_clock(stack, ("attendance",), roles=("api",), offset_s=offset)):
        page.reload()
        mark_month_attended(page, ru, period)
        expect(page.locator(".child-month .child-name")).to_have_text([CHILD_NAME])  # the coach knows who is who
        screenshot("provider-attendance-ru")
        assert axe_violations(page) == []
        submit_month(page, ru)
        with client(stack, "attendance") as attendance:
            months = attendance.get("/v1/timesheets", params={"period": period}, headers=family.headers).json()
            [month] = months["items"]
            assert month["enrolment_id"] == enrolment["id"], month
            confirmed = attendance.post(
                "/v1/timesheets/confirm", json={"timesheet_ids": [month["id"]]}, headers=family.headers
            )
            assert confirmed.status_code == 200, confirmed.text

    # --- the accrual of the confirmed month, on the provider's payments page -----------------------------------
    page.get_by_role("navigation", name=ru["provider.nav.label"]).get_by_role(
        "link", name=ru["provider.nav.money"]
    ).click()
    expect(page.get_by_role("heading", name=ru["provider.money.title"], level=1)).to_be_visible()
    accrual = page.locator("#accruals tr.accrual")
    reload_until(page, accrual)
    expect(accrual).to_have_count(1)
    expect(accrual).to_have_attribute("data-status", "accrued")
    expect(accrual).to_contain_text(period)
    expect(accrual).to_contain_text(ru["provider.accrual_status.accrued"])
    expect(page.locator("#months")).to_contain_text(period)
    assert axe_violations(page) == []
    screenshot("provider-money-ru")
    page.goto(f"{portal_url}/provider")
    readme_screenshot(page, "provider")
