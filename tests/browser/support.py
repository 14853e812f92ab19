"""What browser tests share: signing in as a parent or a staff member through the portal's own pages, reading the
one-time code from the notifications inbox (the local stack's SMS stand-in), and the axe-core check."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pyotp
from playwright.sync_api import Locator, Page, expect

from tests.support.waiting import eventually

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
README_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARTEFACT_SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "browser"
SERIOUS = ("serious", "critical")
T = TypeVar("T")


@dataclass(frozen=True)
class Staff:
    id: str
    username: str
    password: str
    totp_secret: str


def create_staff(registry: httpx.Client, admin_token: str, role: str, scope: dict[str, str]) -> Staff:
    username = f"{role.replace('_', '.')}.{uuid.uuid4().hex[:8]}"
    response = registry.post(
        "/v1/staff",
        json={"username": username, "role": role, "scope": scope},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Staff(str(body["id"]), username, str(body["one_time_password"]), str(body["totp_secret"]))


def sms_code(notifications: httpx.Client, reader_token: str, after: set[str] | None = None) -> str:
    """The 6-digit code of the newest SMS carrying one in the person's inbox (not one of ``after``, the ids seen
    before)."""

    def newest() -> str | None:
        answer = notifications.get("/v1/inbox", headers={"Authorization": f"Bearer {reader_token}"})
        items = answer.json()["items"] if answer.status_code == 200 else []
        codes = (
            re.search(r"\b(\d{6})\b", m["body"])
            for m in items
            if m["kind"] == "sms" and m["id"] not in (after or set())
        )
        return next((found.group(1) for found in codes if found), None)  # not another message the person was sent

    return str(eventually(newest))


def sign_in_parent(page: Page, portal_url: str, iin: str, code_of: Callable[[], str], words: dict[str, str]) -> None:
    """The parent's login through the pages: IIN, then the code (``words`` are the page language's labels)."""
    page.goto(f"{portal_url}/login")
    page.get_by_label(words["auth.iin"], exact=True).fill(iin)
    page.get_by_role("button", name=words["auth.login.send_code"]).click()
    expect(page.get_by_role("heading", name=words["auth.code.title"])).to_be_visible()
    page.get_by_label(words["auth.code.label"], exact=True).fill(code_of())
    page.get_by_role("button", name=words["auth.code.submit"]).click()


def sign_in_staff(page: Page, portal_url: str, staff: Staff, words: dict[str, str]) -> None:
    """A staff member's login through the pages: username, password and the current TOTP code."""
    page.goto(f"{portal_url}/staff/login")
    page.get_by_label(words["auth.staff.username"], exact=True).fill(staff.username)
    page.get_by_label(words["auth.staff.password"], exact=True).fill(staff.password)
    page.get_by_label(words["auth.staff.totp"], exact=True).fill(pyotp.TOTP(staff.totp_secret).now())
    page.get_by_role("button", name=words["auth.staff.submit"]).click()


def reload_until(page: Page, locator: Locator, timeout_s: float = 90) -> None:
    """The page shows what an API has not projected yet (or a service restarted by the test is not answering yet:
    the portal's "not answering" page): load it again until ``locator`` is there."""

    def shown() -> bool:
        if locator.count():
            return True
        page.reload()
        return bool(locator.count())

    eventually(shown, timeout_s=timeout_s, interval_s=1)


def mark_month_attended(page: Page, words: dict[str, str], period: str) -> None:
    """On the provider's home page: open the group's month and mark every scheduled session attended in one click
    (attendance's API runs "next month", so every session of the month is past and the month can be submitted; it
    was just restarted on that clock, so its page is asked again until attendance answers)."""
    page.get_by_role("link", name=words["provider.programmes.mark"].format(period=period)).click()
    page.wait_for_load_state()
    reload_until(page, page.get_by_role("heading", name=words["provider.attendance.title"].format(period=period)))
    page.get_by_role("button", name=words["provider.attendance.all_attended"]).click()
    expect(page.get_by_role("status").filter(has_text=words["provider.attendance.saved"])).to_be_visible()


def submit_month(page: Page, words: dict[str, str], count: int = 1) -> None:
    """On the group's month page: submit it; the answer counts the children's months submitted."""
    page.get_by_role("button", name=words["provider.attendance.submit"]).click()
    expect(page.locator("#submit-result")).to_contain_text(words["provider.attendance.submitted"].format(count=count))


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.1 A and AA rules)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


def readme_screenshot(page: Page, role: str) -> Path:
    """The role's home page: always a test artefact (``test-artefacts/browser/<role>-home.png``); with
    ``QOSYM_UPDATE_SCREENSHOTS=1`` also the README's committed ``docs/screenshots/<role>-home.png`` (a test run
    otherwise leaves the committed files as they are: their ids and names change every run)."""
    folder = README_SCREENSHOTS if os.environ.get("QOSYM_UPDATE_SCREENSHOTS") == "1" else ARTEFACT_SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{role}-home.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def off_the_loop(work: Callable[[], T]) -> T:
    """Playwright's sync API keeps an event loop running in the test's thread: set-up that calls ``asyncio.run``
    (``db_value``, restarting the stack's processes) runs in a thread of its own."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


@contextmanager
def entered_off_the_loop(manager: AbstractContextManager[T]) -> Iterator[T]:
    """A context manager of the set-up (``shifted_clock``) entered and left off the browser's event loop."""
    value = off_the_loop(manager.__enter__)
    try:
        yield value
    finally:
        off_the_loop(lambda: manager.__exit__(None, None, None))
