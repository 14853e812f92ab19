"""The administrator's journey in a real browser, in English: from applying a region file to approving a payment
batch another administrator prepared, and the pain.001 payment order.

Administrator A uploads a region file (a copy of Astana's with a code of its own) on the regions page and moves an
operator of Astana to the new region on the staff-account pages (no region first: told next to the field); A
creates a round of that region on the new-round page, and opens, closes early with a reason and allocates it on the
rounds page, the family's child having applied through the API; then A simulates changed weights (and no sports
voucher in the child's district) for the allocated round and sees the difference allocation computes. The month's
money: a verified provider's every-day group and the child's enrolment are set up through the APIs; "next month"
the provider's staff member marks and submits the group's month on the provider's pages, and the parent confirms
it on the parent's pages (each in a browser of their own). Then A prepares the region's batch and is told another
administrator must approve it; administrator B approves it, and the pain.001 download is offered with the hash
payments recorded. Screenshots of the key pages; axe-core on each main page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pyotp
import pytest
import yaml
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
    sign_in_parent,
    sign_in_staff,
    sms_code,
    submit_month,
)
from tests.support.journeys import (
    EVERY_DAY,
    REGION_PROJECTIONS,
    REGIONS,
    ZONE,
    client,
    enrol,
    new_family,
    next_month_at,
    publish_programme,
    verified_provider,
)
from tests.support.stack_ops import db_value, shifted_clock
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


def wait_until_projected(stack: LocalStack, code: str) -> None:
    """Every service that projects regions has applied the region's newest configuration."""
    event_id = eventually(
        lambda: db_value(
            stack,
            "allocation",
            "select event_id from outbox where topic = 'allocation.region.v1' and msg_key = $1 order by id desc limit 1",
            code,
        ),
        timeout_s=60,
    )
    for service in REGION_PROJECTIONS:
        eventually(
            lambda s=service: db_value(stack, s, "select count(*) from inbox where event_id = $1", event_id) == 1,
            timeout_s=120,
        )


@pytest.mark.timeout(900)  # a region, a round, a provider's month and a batch on the embedded stack
def test_an_administrator_applies_a_region_runs_its_round_and_approves_another_administrators_batch(
    browser: Browser,
    page: Page,
    portal_url: str,
    running_stack: LocalStack,
    token: Callable[..., str],
    new_staff: Callable[..., Staff],
    registry: httpx.Client,
    notifications: httpx.Client,
    screenshot: Callable[[str], Path],
    artefacts: Path,
    tmp_path: Path,
) -> None:
    en = catalogue("en")
    stack = running_stack
    code = f"adminshire-{uuid.uuid4().hex[:6]}"
    maker, checker = new_staff("administrator"), new_staff("administrator")

    # --- the region file, uploaded --------------------------------------------------------------------------
    region = yaml.safe_load((REGIONS / "astana.yaml").read_text())
    region.update(code=code, name={"en": "Adminshire", "kk": "Adminshire", "ru": "Adminshire"})
    region_file = tmp_path / f"{code}.yaml"
    region_file.write_text(yaml.safe_dump(region, allow_unicode=True), encoding="utf-8")
    page.goto(f"{portal_url}/lang/en?next=/staff/login")
    sign_in_staff(page, portal_url, maker, en)
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.get_by_role("heading", name=en["admin.home.title"], level=1)).to_be_visible()
    assert axe_violations(page) == []
    readme_screenshot(page, "administrator")
    page.get_by_role("navigation", name=en["admin.nav.label"]).get_by_role("link", name=en["admin.nav.regions"]).click()
    expect(page.get_by_role("heading", name=en["admin.regions.title"], level=1)).to_be_visible()
    page.get_by_label(en["admin.regions.file"], exact=True).set_input_files(str(region_file))
    page.get_by_role("button", name=en["admin.regions.apply"]).click()
    expect(page.get_by_role("status").filter(has_text=en["admin.regions.applied"].format(code=code))).to_be_visible()
    expect(page.locator("#regions")).to_contain_text(code)
    assert axe_violations(page) == []
    screenshot("admin-regions-en")
    off_the_loop(lambda: wait_until_projected(stack, code))

    # --- A moves an operator of Astana to the new region: no region first, told next to the field ---------------
    operator = new_staff("operator", {"region": "astana"})
    page.get_by_role("navigation", name=en["admin.nav.label"]).get_by_role("link", name=en["admin.nav.staff"]).click()
    account = page.locator(f"#staff-accounts tr[data-staff-id='{operator.id}']")
    expect(account).to_contain_text(f"{en['admin.staff.scope_region']}: astana")
    account.get_by_role("link", name=f"{en['admin.staff.change']}: {operator.username}").click()
    expect(
        page.get_by_role("heading", name=en["admin.staff_access.title"].format(username=operator.username), level=1)
    ).to_be_visible()
    expect(page.get_by_label(en["admin.staff.role"], exact=True)).to_have_value("operator")
    region_field = page.get_by_label(en["admin.staff.region"], exact=True)
    expect(region_field).to_have_value("astana")
    region_field.select_option("")
    page.get_by_role("button", name=en["admin.staff_access.submit"]).click()
    expect(page.get_by_label(en["admin.staff.region"], exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#region-error")).to_have_text(en["errors.missing"])  # registry's scope.region
    assert axe_violations(page) == []
    screenshot("admin-staff-access-en")
    page.get_by_label(en["admin.staff.region"], exact=True).select_option(code)
    page.get_by_role("button", name=en["admin.staff_access.submit"]).click()
    changed = en["admin.staff.changed"].format(username=operator.username)
    expect(page.get_by_role("status").filter(has_text=changed)).to_be_visible()
    expect(account).to_contain_text(f"{en['admin.staff.scope_region']}: {code}")
    assert axe_violations(page) == []
    signed_in = registry.post(
        "/v1/auth/staff/login",
        json={
            "username": operator.username,
            "password": operator.password,
            "totp": pyotp.TOTP(operator.totp_secret).now(),
        },
    )
    assert signed_in.status_code == 200, signed_in.text
    claims = signed_in.json()["access_token"].split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["scope"] == {"region": code}

    # --- set-up through the APIs: a family whose child allocation knows ---------------------------------------
    family = new_family(stack, token, children=1, region=code)
    [child] = family.children
    with client(stack, "allocation") as allocation:
        eventually(lambda: allocation.get(f"/v1/children/{child.id}", headers=family.headers).status_code == 200)

    # --- A creates the region's round on the new-round page (a draft) ------------------------------------------
    name = f"Adminshire {uuid.uuid4().hex[:6]}"
    cost = region["voucher"]["monthly_value"]["sports"] * region["voucher"]["months"]
    district = next(d for d in region["districts"] if d["code"] == child.district)
    quota_label = f"{district['name']['en']}, {en['direction.sports']}"
    local_now = datetime.now(UTC).astimezone(ZoneInfo(region["timezone"]))
    page.get_by_role("navigation", name=en["admin.nav.label"]).get_by_role("link", name=en["admin.nav.rounds"]).click()
    page.get_by_role("link", name=en["admin.rounds.new"]).click()
    expect(page.get_by_role("heading", name=en["admin.round_new.title"], level=1)).to_be_visible()
    page.get_by_label(en["admin.round_new.region"], exact=True).select_option(code)
    page.get_by_role("button", name=en["admin.round_new.continue"]).click()
    expect(page.get_by_label(quota_label, exact=True)).to_be_visible()
    page.get_by_label(en["admin.round_new.name"], exact=True).fill(name)
    page.get_by_label(en["admin.round_new.budget"], exact=True).fill(str(cost // 100))  # whole tenge
    page.get_by_label(en["admin.round_new.opens_at"], exact=True).fill(
        (local_now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_label(en["admin.round_new.closes_at"], exact=True).fill(
        (local_now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_label(en["admin.round_new.reference_date"], exact=True).fill(str(date.today()))
    page.get_by_label(en["admin.round_new.valid_until"], exact=True).fill(str(date.today() + timedelta(days=300)))
    page.get_by_label(quota_label, exact=True).fill("1")
    assert axe_violations(page) == []
    screenshot("admin-round-new-en")
    page.get_by_role("button", name=en["admin.round_new.submit"]).click()
    expect(page.get_by_role("status").filter(has_text=en["admin.rounds.done_create"])).to_be_visible()
    row = page.locator("#rounds tr[data-round-id]").filter(has_text=name)
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "draft")
    round_id = str(row.get_attribute("data-round-id"))

    # --- open, close early with a reason, allocate: on the rounds page ---------------------------------------
    row = page.locator(f"#rounds tr[data-round-id='{round_id}']")
    row.get_by_role("button", name=f"{en['admin.rounds.open']}: {name}").click()
    expect(page.get_by_role("status").filter(has_text=en["admin.rounds.done_open"])).to_be_visible()
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "open")
    with client(stack, "allocation") as allocation:
        applied = allocation.post(
            f"/v1/rounds/{round_id}/applications",
            json={"child_id": child.id, "direction": "sports"},
            headers=family.headers,
        )
        assert applied.status_code == 201, applied.text
    row.get_by_label(en["admin.rounds.early_reason"], exact=True).select_option("schedule_change")
    row.get_by_role("button", name=f"{en['admin.rounds.close']}: {name}").click()
    expect(page.get_by_role("status").filter(has_text=en["admin.rounds.done_close"])).to_be_visible()
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "closed")
    row.get_by_role("button", name=f"{en['admin.rounds.allocate']}: {name}").click()
    expect(page.get_by_role("status").filter(has_text=en["admin.rounds.done_allocate"])).to_be_visible()
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "allocated")
    expect(row.locator("td").nth(3)).to_have_text("1")
    assert axe_violations(page) == []
    screenshot("admin-rounds-en")

    # --- A simulates changed weights (and no sports voucher in the child's district) and sees the difference ---
    row.get_by_role("link", name=f"{en['admin.rounds.simulate']}: {name}").click()
    expect(page.get_by_role("heading", name=en["admin.simulate.title"], level=1)).to_be_visible()
    weight = page.get_by_label(en["category.large_family"], exact=True)
    expect(weight).to_have_value(str(region["priority_weights"]["large_family"]))
    weight.fill("200")
    quota = page.get_by_label(quota_label, exact=True)
    expect(quota).to_have_value("1")
    quota.fill("0")
    page.get_by_role("button", name=en["admin.simulate.submit"]).click()
    difference = page.locator("#difference")
    expect(difference.get_by_role("heading", name=en["admin.simulate.difference"])).to_be_visible()
    expect(difference.locator("[data-figure='awarded_now']")).to_have_text("1")
    expect(difference.locator("[data-figure='awarded_simulated']")).to_have_text("0")
    expect(difference.locator("[data-figure='lose']")).to_have_text("1")
    expect(difference.locator(f"#by-district tr[data-district='{child.district}']")).to_contain_text(
        district["name"]["en"]
    )
    expect(page.get_by_label(en["category.large_family"], exact=True)).to_have_value("200")
    assert axe_violations(page) == []
    screenshot("admin-simulate-en")

    # --- set-up through the APIs: a provider's every-day group the child joins ----------------------------------
    provider = verified_provider(stack, token, region=code)
    programme = publish_programme(stack, provider, schedule=EVERY_DAY, sessions_per_month=30)
    enrolment = enrol(stack, family, child, programme["id"])
    period = datetime.now(UTC).astimezone(ZONE).strftime("%Y-%m")
    with client(stack, "attendance") as attendance:

        def group_size() -> int:
            sheet = attendance.get(f"/v1/programmes/{programme['id']}/timesheets/{period}", headers=provider.headers)
            return len(sheet.json()["enrolments"]) if sheet.status_code == 200 else 0

        eventually(lambda: group_size() == 1, timeout_s=90)
    club_staff = new_staff("provider_staff", {"provider": provider.id})

    # --- next month: the provider marks and submits the month on its pages, the parent confirms it on theirs -----
    offset = int((next_month_at(datetime.now(UTC), ZONE) - datetime.now(UTC)).total_seconds())
    with entered_off_the_loop(shifted_clock(stack, ("attendance",), roles=("api",), offset_s=offset)):
        club_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        try:
            club = club_context.new_page()
            club.goto(f"{portal_url}/lang/en?next=/staff/login")
            sign_in_staff(club, portal_url, club_staff, en)
            expect(club).to_have_url(re.compile(r"/provider$"))
            mark_month_attended(club, en, period)
            assert axe_violations(club) == []
            submit_month(club, en)
            club.screenshot(path=str(artefacts / "admin-journey-provider-month-en.png"), full_page=True)
        finally:
            club_context.close()
        home_context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
        try:
            home = home_context.new_page()
            home.goto(f"{portal_url}/lang/en?next=/login")
            reader = token("parent", family.parent_id)  # only to read the SMS the local stand-in put into the inbox
            sign_in_parent(home, portal_url, family.parent_iin, lambda: sms_code(notifications, reader), en)
            expect(home).to_have_url(re.compile(r"/parent$"))
            home.get_by_role("navigation", name=en["parent.nav.label"]).get_by_role(
                "link", name=en["parent.nav.attendance"]
            ).click()
            month_row = home.locator("#months tr[data-timesheet-id]")
            expect(month_row).to_have_count(1)
            month_row.get_by_role("link", name=period).click()
            home.get_by_role("button", name=en["parent.attendance.confirm"]).click()
            expect(home.get_by_role("status").filter(has_text=en["parent.attendance.confirmed_note"])).to_be_visible()
            assert axe_violations(home) == []
            home.screenshot(path=str(artefacts / "admin-journey-parent-confirmed-en.png"), full_page=True)
        finally:
            home_context.close()
    with client(stack, "payments") as payments:
        accrued = eventually(
            lambda: payments.get(
                f"/v1/providers/{provider.id}/accruals", params={"period": period}, headers=provider.headers
            ).json()["items"],
            timeout_s=90,
        )
    assert [a["enrolment_id"] for a in accrued] == [enrolment["id"]]

    # --- maker: A prepares the region's month and may not approve it ------------------------------------------
    page.get_by_role("navigation", name=en["admin.nav.label"]).get_by_role("link", name=en["admin.nav.batches"]).click()
    expect(page.get_by_role("heading", name=en["admin.batches.title"], level=1)).to_be_visible()
    page.get_by_label(en["admin.batches.region"], exact=True).select_option(code)
    page.get_by_label(en["admin.batches.period"], exact=True).fill(period)
    page.get_by_role("button", name=en["admin.batches.prepare_submit"]).click()
    expect(page.get_by_role("status").filter(has_text=en["admin.batch.prepared"])).to_be_visible()
    expect(page.locator("#batch-status")).to_have_attribute("data-status", "prepared")
    expect(page.get_by_text(en["admin.batch.maker_note"])).to_be_visible()
    batch_url = page.url.split("?")[0]
    page.get_by_role("button", name=en["admin.batch.approve"]).click()
    expect(page.get_by_role("alert")).to_contain_text(en["errors.batch_own"])
    expect(page.locator("#batch-status")).to_have_attribute("data-status", "prepared")
    assert axe_violations(page) == []
    screenshot("admin-batch-maker-en")

    # --- checker: B approves it; the pain.001 download is offered with its recorded hash ---------------------
    checker_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        second = checker_context.new_page()
        second.goto(f"{portal_url}/lang/en?next=/staff/login")
        sign_in_staff(second, portal_url, checker, en)
        expect(second).to_have_url(re.compile(r"/admin$"))
        second.goto(batch_url)
        expect(second.get_by_text(en["admin.batch.maker_note"])).to_have_count(0)
        second.get_by_role("button", name=en["admin.batch.approve"]).click()
        expect(second.get_by_role("status").filter(has_text=en["admin.batch.approved"])).to_be_visible()
        expect(second.locator("#batch-status")).to_have_attribute("data-status", "approved")
        download_link = second.get_by_role("link", name=en["admin.batch.download"])
        expect(download_link).to_be_visible()
        recorded = second.locator("code.hash").inner_text().strip()
        assert axe_violations(second) == []
        second.screenshot(path=str(artefacts / "admin-batch-approved-en.png"), full_page=True)
        with second.expect_download() as downloading:
            download_link.click()
        order = Path(downloading.value.path()).read_bytes()
    finally:
        checker_context.close()
    assert order.startswith(b"<?xml") and b"pain.001" in order
    assert hashlib.sha256(order).hexdigest() == recorded
