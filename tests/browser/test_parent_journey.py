"""The parent's first journey in a real browser, entirely in Kazakh: sign in with IIN and the SMS code, register a
child, apply in the open demo round and see the application's status; then the page in Russian. Screenshots of each
key page, and axe-core on the login and home pages (no serious or critical violation)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from portal.i18n import catalogue
from tests.browser.support import axe_violations, readme_screenshot, sign_in_parent, sign_in_staff, sms_code
from tests.support.people import register_person, synthetic_iin

pytestmark = pytest.mark.e2e


def test_a_parent_signs_in_registers_a_child_and_applies_all_in_kazakh(
    page: Page,
    portal_url: str,
    registry: httpx.Client,
    notifications: httpx.Client,
    token: Callable[..., str],
    screenshot: Callable[[str], Path],
) -> None:
    kk = catalogue("kk")
    person_id, parent_iin = register_person(registry, token)
    reader = token("parent", person_id)  # only to read the SMS the local stand-in put into the inbox

    page.goto(f"{portal_url}/login")
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    expect(page.get_by_role("heading", name=kk["auth.login.title"])).to_be_visible()
    assert axe_violations(page) == []
    screenshot("parent-login-kk")

    sign_in_parent(page, portal_url, parent_iin, lambda: sms_code(notifications, reader), kk)
    expect(page).to_have_url(re.compile(r"/parent$"))
    expect(page.get_by_role("heading", name=kk["parent.home.title"], level=1)).to_be_visible()

    page.get_by_role("link", name=kk["parent.children.register"]).click()
    expect(page.get_by_role("heading", name=kk["parent.child_new.title"], level=1)).to_be_visible()
    page.get_by_label(kk["parent.child_new.iin"], exact=True).fill("123")  # a wrong IIN first: told next to it
    page.get_by_label(kk["parent.child_new.region"], exact=True).select_option("astana")
    page.get_by_label(kk["parent.child_new.district"], exact=True).select_option("yesil")
    page.get_by_role("button", name=kk["parent.child_new.submit"]).click()
    iin_field = page.get_by_label(kk["parent.child_new.iin"], exact=True)
    expect(iin_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#iin-error")).to_be_visible()
    expect(page.locator("#iin-error")).to_have_text(kk["errors.iin_format"])  # the registry's code, in Kazakh
    screenshot("parent-child-error-kk")

    iin_field.fill(synthetic_iin(date(2017, 3, 9), "F"))
    page.get_by_role("button", name=kk["parent.child_new.submit"]).click()
    expect(page.get_by_role("status").filter(has_text=kk["parent.home.child_registered"])).to_be_visible()

    # allocation learns the child from the registry's event: the children panel asks again until it may apply
    apply = page.get_by_role("link", name=kk["parent.children.apply"])
    expect(apply).to_be_visible(timeout=60_000)
    apply.click()
    expect(page.get_by_role("heading", name=kk["parent.apply.title"], level=1)).to_be_visible()
    page.get_by_label(kk["direction.sports"]).check()
    screenshot("parent-apply-kk")
    page.get_by_role("button", name=kk["parent.apply.submit"]).click()

    expect(page.get_by_role("status").filter(has_text=kk["parent.home.applied"])).to_be_visible()
    status = page.locator("#applications .status")
    expect(status).to_have_count(1)
    expect(status).to_have_attribute("data-status", "submitted")
    expect(status).to_have_text(kk["status.submitted"])
    assert axe_violations(page) == []
    screenshot("parent-home-kk")
    readme_screenshot(page, "parent")

    page.get_by_role("link", name="Русский").click()
    expect(page.get_by_role("heading", name=catalogue("ru")["parent.home.title"], level=1)).to_be_visible()
    expect(page.locator("#applications .status")).to_have_text(catalogue("ru")["status.submitted"])


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
