"""The oversight journey in a real browser, in English: an administrator resolves a parent's dispute, clears a record
to check, reviews a risk flag, runs the reconciliation and reads registry's audit trail.

Set up through the APIs, as tests/e2e/test_attendance_journey.py does, but lighter: a family's two children win
vouchers and join two every-day groups of one provider led by the same coach, at 16:00 and at 18:00 (and a third
child is registered with a declared sex that is not the IIN's); "next month" (attendance's API on a shifted clock)
the provider marks both months attended, with a make-up lesson of the evening group at 16:30 on the first day (the
hour the coach was teaching the other group), and submits them; the parent disputes the first day of the first
child's month, and a risk scan flags the coach marked in two groups at once. Then the administrator, in the
browser: finds the dispute with what the parent said, is told next to each field what a resolution needs, rules for
the parent and sees it resolved; clears registry's flag of the third child (a record to check, shown apart from the
risk flags); finds the coach's flag and dismisses it with a note; reconciles Astana's month; opens registry's audit
trail, finds the entry of their own staff account's creation and sees the trail verified. Screenshots of each page;
axe-core on each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from portal.i18n import catalogue
from qosym_cli.stack import LocalStack
from tests.browser.support import Staff, axe_violations, off_the_loop, sign_in_staff
from tests.support.journeys import (
    EVERY_DAY,
    ZONE,
    award_vouchers,
    bearer,
    client,
    enrol,
    new_family,
    next_month_at,
    publish_programme,
    verified_provider,
)
from tests.support.people import synthetic_iin
from tests.support.stack_ops import shifted_clock
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
PARENT_SAYS = "She was ill on the first day"
EVERY_EVENING = [{"weekday": d, "start": "18:00", "end": "19:00"} for d in range(1, 8)]


@dataclass(frozen=True)
class Oversight:
    period: str
    dispute_id: str
    disputed_day: str
    flag_id: str
    record_id: str


def a_disputed_month_and_a_flagged_coach(stack: LocalStack, token: Callable[..., str]) -> Oversight:
    """Two children in two groups of one coach, both months submitted "next month" with a make-up lesson of the
    evening group during the afternoon one; the first child's month disputed by the parent and the coach flagged by
    a scan (all through the APIs)."""
    family = new_family(stack, token, children=2)
    with client(
        stack, "registry"
    ) as registry:  # and a third child whose declared sex is not the IIN's: a record to check
        flagged = registry.post(
            "/v1/children",
            json={
                "iin": synthetic_iin(date(2018, 3, 1), "M"),
                "region_code": "astana",
                "district_code": "yesil",
                "declared_sex": "F",
            },
            headers=family.headers,
        )
        assert flagged.status_code == 201, flagged.text
    award_vouchers(stack, token, [family])
    provider = verified_provider(stack, token)
    groups = [
        publish_programme(stack, provider, schedule=EVERY_DAY, sessions_per_month=30),
        publish_programme(stack, provider, schedule=EVERY_EVENING, sessions_per_month=30),
    ]
    enrolments = [enrol(stack, family, child, g["id"]) for child, g in zip(family.children, groups, strict=True)]
    now = datetime.now(UTC)
    period = now.astimezone(ZONE).strftime("%Y-%m")
    administrator = bearer(token("administrator"))
    with client(stack, "attendance") as attendance:

        def group_size(programme_id: str) -> int:
            sheet = attendance.get(f"/v1/programmes/{programme_id}/timesheets/{period}", headers=provider.headers)
            return len(sheet.json()["enrolments"]) if sheet.status_code == 200 else 0

        for group in groups:
            eventually(lambda g=group: group_size(g["id"]) == 1, timeout_s=90)
        offset = int((next_month_at(now, ZONE) - datetime.now(UTC)).total_seconds())
        with shifted_clock(stack, ("attendance",), roles=("api",), offset_s=offset):
            marked = attendance.put(
                f"/v1/programmes/{groups[0]['id']}/timesheets/{period}/marks",
                json={"all_scheduled": "attended"},
                headers=provider.headers,
            )
            assert marked.status_code == 200, marked.text
            day = marked.json()["enrolments"][0]["marks"][0]["date"]  # the first session (closure days have none)
            make_up = {
                "enrolment_id": enrolments[1]["id"],
                "date": day,
                "starts_at": "16:30",
                "status": "attended",
                "reason": "make-up lesson",
            }
            evening = attendance.put(
                f"/v1/programmes/{groups[1]['id']}/timesheets/{period}/marks",
                json={"all_scheduled": "attended", "marks": [make_up]},
                headers=provider.headers,
            )
            assert evening.status_code == 200, evening.text
            submitted = attendance.post(
                f"/v1/providers/{provider.id}/timesheets/{period}/submit", headers=provider.headers
            )
            assert submitted.status_code == 200 and submitted.json()["submitted"] == 2, submitted.text
            months = attendance.get("/v1/timesheets", params={"period": period}, headers=family.headers)
            first = next(m for m in months.json()["items"] if m["child_id"] == family.children[0].id)
            disputed = attendance.post(
                f"/v1/timesheets/{first['id']}/dispute",
                json={"comment": PARENT_SAYS, "sessions": [{"date": day, "claim": "absent", "comment": "fever"}]},
                headers=family.headers,
            )
            assert disputed.status_code == 201, disputed.text
            scanned = attendance.post(
                "/v1/risk-flags/scan", params={"period": period, "region_code": "astana"}, headers=administrator
            )
            assert scanned.status_code == 200, scanned.text
    with client(stack, "attendance") as attendance:
        flags = attendance.get(
            "/v1/risk-flags",
            params={"rule": "coach_double_booked", "period": period, "region_code": "astana"},
            headers=administrator,
        )
        flag = next(f for f in flags.json()["items"] if f["subject_id"] == provider.coach_id)
    return Oversight(period, str(disputed.json()["dispute_id"]), day, str(flag["id"]), str(flagged.json()["id"]))


def open_from_nav(page: Page, words: dict[str, str], key: str) -> None:
    page.get_by_role("navigation", name=words["admin.nav.label"]).get_by_role("link", name=words[key]).click()


@pytest.mark.timeout(600)
def test_an_administrator_resolves_a_dispute_reviews_a_flag_reconciles_and_reads_the_audit_trail(
    page: Page,
    portal_url: str,
    running_stack: LocalStack,
    token: Callable[..., str],
    new_staff: Callable[..., Staff],
    screenshot: Callable[[str], Path],
) -> None:
    en = catalogue("en")
    seen = off_the_loop(lambda: a_disputed_month_and_a_flagged_coach(running_stack, token))
    administrator = new_staff("administrator")
    page.goto(f"{portal_url}/lang/en?next=/staff/login")
    sign_in_staff(page, portal_url, administrator, en)
    expect(page).to_have_url(re.compile(r"/admin$"))

    # --- the parent's dispute: found with what the parent said, resolved session by session -------------------
    open_from_nav(page, en, "oversight.nav.disputes")
    expect(page.get_by_role("heading", name=en["oversight.disputes.title"], level=1)).to_be_visible()
    row = page.locator(f"#disputes tr[data-dispute-id='{seen.dispute_id}']")
    expect(row).to_contain_text(PARENT_SAYS)
    assert axe_violations(page) == []
    screenshot("admin-disputes-en")
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name=en["oversight.month.title"].format(period=seen.period))).to_be_visible()
    expect(page.locator("#parent-comment")).to_have_text(PARENT_SAYS)
    session = page.locator(f"#disputed-sessions tr[data-session^='{seen.disputed_day} ']")
    expect(session).to_contain_text(en["oversight.claim.absent"])
    expect(session).to_contain_text("fever")
    page.get_by_role("button", name=en["oversight.resolve.submit"]).click()  # nothing chosen: told next to each field
    expect(page.locator("#ruling-0-error")).to_have_text(en["errors.missing"])
    expect(page.locator("#comment-error")).to_have_text(en["errors.missing"])
    expect(page.get_by_label(en["oversight.resolve.comment"], exact=True)).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []
    choice = page.get_by_role("group", name=re.compile(re.escape(seen.disputed_day)))
    choice.get_by_label(en["oversight.ruling.guardian_upheld"], exact=True).check()
    page.get_by_label(en["oversight.resolve.comment"], exact=True).fill("The doctor's note covers the day")
    screenshot("admin-dispute-resolve-en")
    page.get_by_role("button", name=en["oversight.resolve.submit"]).click()
    expect(page.get_by_role("status").filter(has_text=en["oversight.month.resolved_note"])).to_be_visible()
    expect(page.locator("#dispute-status")).to_have_attribute("data-status", "resolved")
    expect(page.locator("#resolution [data-outcome]")).to_have_attribute("data-outcome", "guardian_upheld")
    assert axe_violations(page) == []

    # --- the coach's risk flag: found among this month's double bookings, dismissed with a note -----------------
    open_from_nav(page, en, "oversight.nav.risk_flags")
    expect(page.get_by_role("heading", name=en["oversight.risk.title"], level=1)).to_be_visible()
    record = page.locator(f"#records tr[data-record-id='{seen.record_id}']")  # registry's records to check, apart
    expect(record).to_contain_text(en["oversight.records.flag.declared_sex_mismatch"])
    record.get_by_role("button", name=en["oversight.records.clear"].format(id=seen.record_id[:8])).click()
    expect(page.get_by_role("status").filter(has_text=en["oversight.records.cleared"])).to_be_visible()
    expect(record).to_have_count(0)
    page.get_by_label(en["oversight.risk.rule"], exact=True).select_option("coach_double_booked")
    page.get_by_label(en["oversight.period"], exact=True).fill(seen.period)
    page.get_by_role("button", name=en["oversight.show"]).click()
    flag = page.locator(f"#risk-flags tr[data-flag-id='{seen.flag_id}']")
    expect(flag).to_contain_text(en["oversight.risk.rule.coach_double_booked"])
    expect(flag.locator("[data-severity]")).to_have_attribute("data-severity", "high")
    assert axe_violations(page) == []
    screenshot("admin-risk-flags-en")
    flag.get_by_role("link").click()
    expect(page.locator("#evidence")).to_contain_text("clashes")
    page.get_by_label(en["oversight.flag.outcome.dismissed"], exact=True).check()
    page.get_by_label(en["oversight.flag.note"], exact=True).fill("Two groups share one hall and one coach by design")
    assert axe_violations(page) == []
    page.get_by_role("button", name=en["oversight.flag.submit"]).click()
    expect(page.get_by_role("status").filter(has_text=en["oversight.flag.reviewed_note"])).to_be_visible()
    expect(page.locator("#flag-status")).to_have_attribute("data-status", "dismissed")
    expect(page.locator("#review-note")).to_have_text("Two groups share one hall and one coach by design")
    screenshot("admin-risk-flag-en")

    # --- reconciliation of Astana's month ----------------------------------------------------------------------
    open_from_nav(page, en, "oversight.nav.reconciliation")
    expect(page.get_by_role("heading", name=en["oversight.reconciliation.title"], level=1)).to_be_visible()
    page.get_by_label(en["oversight.region"], exact=True).select_option("astana")
    page.get_by_label(en["oversight.period"], exact=True).fill(seen.period)
    page.get_by_role("button", name=en["oversight.reconciliation.run"]).click()
    expect(page.locator("#report")).to_be_visible()
    expect(page.locator("#checks [data-check='ledger_sums_to_zero']")).to_have_attribute("data-findings", "0")
    assert axe_violations(page) == []
    screenshot("admin-reconciliation-en")

    # --- registry's audit trail: the creation of this administrator's account, and the trail verified -----------
    open_from_nav(page, en, "oversight.nav.audit")
    expect(page.get_by_role("heading", name=en["oversight.audit.title"], level=1)).to_be_visible()
    page.get_by_label(en["oversight.audit.service"], exact=True).select_option("registry")
    page.get_by_label(en["oversight.audit.entity"], exact=True).fill("staff")
    page.get_by_label(en["oversight.audit.entity_id"], exact=True).fill(administrator.id)
    page.get_by_role("button", name=en["oversight.show"]).click()
    created = page.locator(f"#audit-entries tr[data-action='role.granted'][data-entity-id='{administrator.id}']")
    expect(created).to_have_count(1)
    expect(created).to_contain_text("role=administrator")
    verification = page.locator("#audit-verification")
    expect(verification).to_have_attribute("data-ok", "true", timeout=60_000)
    expect(verification.get_by_role("status")).to_have_text(en["oversight.audit.verified"])
    assert axe_violations(page) == []
    screenshot("admin-audit-en")
