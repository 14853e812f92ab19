"""An operator's journey in a real browser, in Russian: a region's category claim reviewed and an assisted
registration at a consultation point.

A parent of the journey's own region declares a category through the API with a PNG certificate. An operator of
another region signs in and does not find it in their queue (nor can open its document); the region's operator
finds it, opens the evidence (the PNG, as registry serves it, never cached) and verifies it with its validity;
registry's API then shows it verified to the parent. The same operator registers a child for another registered
parent who came to the consultation point: the parent receives a code (in the local stack, in their notifications
inbox) and reads it out; once the operator types it, the child is among that parent's children on registry's API.
Screenshots of each page; axe-core on each (no serious or critical violation).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from portal.i18n import catalogue
from qosym_cli.stack import LocalStack
from tests.browser.support import Staff, axe_violations, off_the_loop, sign_in_staff, sms_code
from tests.support.journeys import bearer, configure_region, new_family
from tests.support.people import register_person, synthetic_iin

pytestmark = pytest.mark.e2e
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
CATEGORY = "large_family"


@pytest.mark.timeout(600)
def test_an_operator_reviews_a_category_and_registers_a_child_at_a_consultation_point_in_russian(
    page: Page,
    portal_url: str,
    running_stack: LocalStack,
    registry: httpx.Client,
    notifications: httpx.Client,
    token: Callable[..., str],
    new_staff: Callable[..., Staff],
    screenshot: Callable[[str], Path],
) -> None:
    ru = catalogue("ru")
    stack = running_stack
    region_code = f"opshire-{uuid.uuid4().hex[:6]}"
    off_the_loop(lambda: configure_region(stack, token, region_code))
    family = new_family(stack, token, children=1, region=region_code)
    child_id = family.children[0].id
    declared = registry.post(
        f"/v1/children/{child_id}/categories",
        data={"code": CATEGORY},
        files={"file": ("certificate.png", PNG, "image/png")},
        headers=family.headers,
    )
    assert declared.status_code == 201, declared.text
    claim_id = str(declared.json()["id"])
    claim_row = page.locator(f'[data-claim-id="{claim_id}"]')

    # --- an operator of another region: not in the queue, and its document is not theirs to open ---------------
    page.goto(f"{portal_url}/lang/ru?next=/staff/login")
    sign_in_staff(page, portal_url, new_staff("operator", {"region": "almaty"}), ru)
    expect(page).to_have_url(re.compile(r"/admin$"))
    page.get_by_role("link", name=ru["review.nav.categories"]).click()
    expect(page.get_by_role("heading", name=ru["review.categories.title"], level=1)).to_be_visible()
    expect(claim_row).to_have_count(0)
    screenshot("operator-foreign-queue")
    assert axe_violations(page) == []
    assert page.request.get(f"{portal_url}/admin/categories/{claim_id}/evidence").status == 404

    # --- the region's operator: the queue, the evidence, the decision -----------------------------------------
    sign_in_staff(page, portal_url, new_staff("operator", {"region": region_code}), ru)
    expect(page).to_have_url(re.compile(r"/admin$"))
    page.get_by_role("link", name=ru["review.nav.categories"]).click()
    expect(claim_row).to_be_visible()
    expect(claim_row).to_contain_text(ru[f"category.{CATEGORY}"])
    expect(claim_row).to_contain_text("********")
    screenshot("operator-categories")
    assert axe_violations(page) == []

    claim_row.get_by_role("link", name=re.compile(ru["review.categories.open"])).click()
    expect(
        page.get_by_role("heading", name=ru["review.claim.title"].format(category=ru[f"category.{CATEGORY}"]))
    ).to_be_visible()
    screenshot("operator-claim")
    assert axe_violations(page) == []
    with page.expect_download() as opened:
        page.get_by_role("link", name=ru["review.claim.evidence"]).click()
    assert Path(opened.value.path()).read_bytes() == PNG and opened.value.suggested_filename.endswith(".png")
    evidence = page.request.get(f"{portal_url}/admin/categories/{claim_id}/evidence")
    assert (evidence.status, evidence.headers["content-type"], evidence.headers["cache-control"]) == (
        200,
        "image/png",
        "no-store",
    )
    assert evidence.body() == PNG

    valid_until = date.today() + timedelta(days=365)
    page.get_by_label(ru["review.claim.valid_until"], exact=True).fill(valid_until.isoformat())
    page.get_by_role("button", name=ru["review.claim.verify"], exact=True).click()
    expect(page.get_by_role("status").filter(has_text=ru["review.categories.verified"])).to_be_visible()
    expect(claim_row).to_have_count(0)
    screenshot("operator-verified")
    assert axe_violations(page) == []
    claims = registry.get(f"/v1/children/{child_id}/categories", headers=family.headers).json()["items"]
    assert [(c["id"], c["status"], c["valid_until"]) for c in claims] == [
        (claim_id, "verified", valid_until.isoformat())
    ]

    # --- assisted registration for a parent at the consultation point ------------------------------------------
    parent_id, parent_iin = register_person(registry, token)
    reader = token("parent", parent_id)  # only to read the SMS the local stand-in put into the parent's inbox
    seen = {m["id"] for m in notifications.get("/v1/inbox", headers=bearer(reader)).json()["items"]}
    child_iin = synthetic_iin(date(2018, 3, 3), "F")
    page.get_by_role("link", name=ru["review.nav.assisted"]).click()
    expect(page.get_by_role("heading", name=ru["review.assisted.title"], level=1)).to_be_visible()
    screenshot("operator-assisted")
    assert axe_violations(page) == []
    page.get_by_label(ru["review.assisted.parent_iin"], exact=True).fill(parent_iin)
    page.get_by_label(ru["review.assisted.iin"], exact=True).fill(child_iin)
    page.get_by_label(ru["review.assisted.region"], exact=True).select_option(region_code)
    page.get_by_label(ru["review.assisted.district"], exact=True).select_option("yesil")
    page.get_by_role("button", name=ru["review.assisted.submit"]).click()
    expect(page.get_by_role("heading", name=ru["review.assisted_confirm.title"], level=1)).to_be_visible()
    screenshot("operator-assisted-code")
    assert axe_violations(page) == []

    page.get_by_label(ru["review.assisted_confirm.code"], exact=True).fill(sms_code(notifications, reader, seen))
    page.get_by_role("button", name=ru["review.assisted_confirm.submit"]).click()
    expect(page.get_by_role("heading", name=ru["review.assisted_done.title"], level=1)).to_be_visible()
    expect(page.locator("#registered-child")).to_contain_text("********" + child_iin[-4:])
    screenshot("operator-assisted-done")
    assert axe_violations(page) == []
    children = registry.get("/v1/children", headers=bearer(token("parent", parent_id))).json()["items"]
    assert [(c["iin_masked"], c["region_code"]) for c in children] == [("********" + child_iin[-4:], region_code)]
