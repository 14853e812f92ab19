"""The operators' and administrators' oversight pages' own behaviour, with the network under the API client replaced
(the real services are driven by tests/browser/test_oversight_journey.py): disputes and their resolution, risk
flags (attendance's) and records to check (registry's) with their reviews, reconciliation findings, and each
service's audit trail with its verification. What each form sends to which API, problem+json next to its field in
the page's language, and who sees what."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from portal.config import PortalSettings
from portal.i18n import catalogue
from tests.support.portal_pages import FakeApis, csrf, portal_client, staff_tokens, submit_staff_sign_in

pytestmark = pytest.mark.unit

Handler = Callable[[httpx.Request], httpx.Response]
SETTINGS = PortalSettings()
TIMESHEET_ID = "7a000000-0000-4000-8000-000000000001"
DISPUTE_ID = "7a000000-0000-4000-8000-000000000002"
FLAG_ID = "7a000000-0000-4000-8000-000000000003"
CHILD_ID = "7a000000-0000-4000-8000-000000000004"
PERSON_ID = "7a000000-0000-4000-8000-000000000005"
STAFF_ID = "7a000000-0000-4000-8000-000000000006"
EN = catalogue("en")


def port_of(service: str) -> int:
    return int(urlsplit(SETTINGS.service_url(service)).port or 80)


class Services(FakeApis):
    """The services' APIs by (method, service, path): the port in the portal's settings tells the service apart."""

    def on(self, method: str, service: str, path: str, status: int, body: object = None) -> None:  # type: ignore[override]
        super().on(method, f"{port_of(service)}{path}", status, body)

    def requests(self, method: str, service: str, path: str) -> list[httpx.Request]:  # type: ignore[override]
        return [r for r in self.seen if (r.method, r.url.port, r.url.path) == (method, port_of(service), path)]

    def sent(self, method: str, service: str, path: str) -> object:  # type: ignore[override]
        return json.loads(self.requests(method, service, path)[-1].content)

    def params(self, method: str, service: str, path: str) -> dict[str, str]:
        return dict(self.requests(method, service, path)[-1].url.params)

    def answer(self, request: httpx.Request) -> httpx.Response:
        handler = self.routes.get((request.method, f"{int(request.url.port or 80)}{request.url.path}"))
        if handler is None:
            return httpx.Response(404, json={"title": "Not found", "status": 404})
        return handler(request)


@pytest.fixture
def services() -> Services:
    return Services()


@pytest.fixture
def portal(tmp_path: Path, services: Services) -> Iterator[TestClient]:
    with portal_client(tmp_path, services) as client:
        yield client


def sign_in(portal: TestClient, services: Services, role: str, scope: dict[str, str] | None = None) -> None:
    services.on("POST", "registry", "/v1/auth/staff/login", 200, staff_tokens(role, scope or {}, STAFF_ID))
    submit_staff_sign_in(portal)
    portal.cookies.set("qosym_lang", "en")


REGIONS = {
    "items": [{"revision": 1, "config": {"code": "astana", "name": {"en": "Astana", "kk": "Астана", "ru": "Астана"}}}]
}


# --- disputes ------------------------------------------------------------------------------------------------

DISPUTE = {
    "id": DISPUTE_ID,
    "timesheet_id": TIMESHEET_ID,
    "region_code": "astana",
    "district_code": "yesil",
    "opened_by": "parent:p-1",
    "opened_at": "2026-12-02T05:00:00Z",
    "comment": "she was ill on the first day",
    "status": "open",
    "outcome": None,
    "resolved_by": None,
    "resolved_at": None,
    "resolution_comment": None,
}


def month(status: str = "open") -> dict[str, object]:
    sessions = [
        {
            "starts_at": "2026-11-03T11:00:00Z",  # 16:00 in Astana
            "marked_status": "attended",
            "claim": "absent",
            "comment": "fever",
            "ruling": None,
        },
        {
            "starts_at": "2026-11-04T11:00:00Z",
            "marked_status": "attended",
            "claim": "absent",
            "comment": None,
            "ruling": None,
        },
    ]
    return {
        "id": TIMESHEET_ID,
        "enrolment_id": "e-1",
        "period": "2026-11",
        "child_id": CHILD_ID,
        "programme_id": "p-1",
        "provider_id": "pr-1",
        "region_code": "astana",
        "district_code": "yesil",
        "status": "disputed",
        "planned_sessions": 8,
        "attended_sessions": 8,
        "absent_sessions": 0,
        "cancelled_sessions": 0,
        "payable_sessions": None,
        "timezone": "Asia/Almaty",
        "sessions": [],
        "decisions": [],
        "dispute": {**DISPUTE, "status": status, "sessions": sessions},
    }


def test_an_operator_sees_the_regions_disputes_with_what_the_parent_said(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services, "operator", {"region": "astana"})
    services.on("GET", "attendance", "/v1/disputes", 200, {"items": [DISPUTE], "total": 1, "limit": 50, "offset": 0})
    page = portal.get("/admin/disputes")
    assert page.status_code == 200
    assert services.params("GET", "attendance", "/v1/disputes")["status"] == "open"
    assert "she was ill on the first day" in page.text
    assert f'href="/admin/timesheets/{TIMESHEET_ID}"' in page.text
    assert (
        EN["oversight.nav.disputes"] in page.text and EN["oversight.nav.audit"] not in page.text
    )  # no audit: operator
    portal.get("/admin/disputes?status=all")
    assert "status" not in services.params("GET", "attendance", "/v1/disputes")


def test_a_dispute_is_resolved_session_by_session_in_the_regions_time(portal: TestClient, services: Services) -> None:
    sign_in(portal, services, "operator", {"region": "astana"})
    services.on("GET", "attendance", f"/v1/timesheets/{TIMESHEET_ID}", 200, month())
    page = portal.get(f"/admin/timesheets/{TIMESHEET_ID}")
    assert page.status_code == 200
    assert "2026-11-03 16:00" in page.text and "fever" in page.text and "she was ill on the first day" in page.text
    assert 'name="ruling-0"' in page.text and 'name="ruling-1"' in page.text
    resolved = {"dispute_id": DISPUTE_ID, "timesheet_id": TIMESHEET_ID, "outcome": "partly_upheld"}
    services.on("POST", "attendance", f"/v1/disputes/{DISPUTE_ID}/resolve", 200, resolved)
    form = {
        "ruling-0": "guardian_upheld",
        "ruling-1": "provider_upheld",
        "comment": "a doctor's note",
        "csrf": csrf(portal),
    }
    done = portal.post(f"/admin/timesheets/{TIMESHEET_ID}/resolve", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/admin/timesheets/{TIMESHEET_ID}?resolved=1"
    assert services.sent("POST", "attendance", f"/v1/disputes/{DISPUTE_ID}/resolve") == {
        "rulings": [
            {"date": "2026-11-03", "starts_at": "16:00", "ruling": "guardian_upheld"},
            {"date": "2026-11-04", "starts_at": "16:00", "ruling": "provider_upheld"},
        ],
        "comment": "a doctor's note",
    }


def test_resolving_errors_land_next_to_the_session_and_the_comment(portal: TestClient, services: Services) -> None:
    sign_in(portal, services, "administrator")
    services.on("GET", "attendance", f"/v1/timesheets/{TIMESHEET_ID}", 200, month())
    resolve = f"/v1/disputes/{DISPUTE_ID}/resolve"
    missing = portal.post(
        f"/admin/timesheets/{TIMESHEET_ID}/resolve", data={"ruling-0": "guardian_upheld", "csrf": csrf(portal)}
    )
    assert missing.status_code == 422
    assert '<p class="field-error" id="ruling-1-error">' in missing.text
    assert '<p class="field-error" id="comment-error">' in missing.text
    assert not services.requests("POST", "attendance", resolve)  # nothing sent before every session has a ruling
    problem = {
        "status": 422,
        "errors": [{"field": "body.rulings[1].date", "type": "value_error", "message": "this session is not disputed"}],
    }
    services.on("POST", "attendance", resolve, 422, problem)
    form = {"ruling-0": "guardian_upheld", "ruling-1": "guardian_upheld", "comment": "ok", "csrf": csrf(portal)}
    refused = portal.post(f"/admin/timesheets/{TIMESHEET_ID}/resolve", data=form)
    assert refused.status_code == 422
    assert '<p class="field-error" id="ruling-1-error">' in refused.text
    assert 'aria-describedby="ruling-1-error"' in refused.text
    assert 'value="guardian_upheld" checked' in refused.text  # the choices are kept
    services.on("POST", "attendance", resolve, 409, {"status": 409, "title": "already resolved"})
    conflict = portal.post(f"/admin/timesheets/{TIMESHEET_ID}/resolve", data=form)
    assert conflict.status_code == 409 and EN["errors.conflict"] in conflict.text


def test_a_resolved_dispute_shows_its_outcome_and_no_form(portal: TestClient, services: Services) -> None:
    sign_in(portal, services, "administrator")
    resolved = month("resolved")
    dispute = resolved["dispute"]
    assert isinstance(dispute, dict)
    dispute.update(
        outcome="guardian_upheld", resolution_comment="a note from the doctor", resolved_by="administrator:a-1"
    )
    services.on("GET", "attendance", f"/v1/timesheets/{TIMESHEET_ID}", 200, resolved)
    page = portal.get(f"/admin/timesheets/{TIMESHEET_ID}")
    assert EN["oversight.outcome.guardian_upheld"] in page.text and "a note from the doctor" in page.text
    assert 'name="ruling-0"' not in page.text


# --- risk flags and records to check --------------------------------------------------------------------------

FLAG = {
    "id": FLAG_ID,
    "rule": "coach_double_booked",
    "subject_type": "staff",
    "subject_id": "c0ac0000-0000-4000-8000-000000000001",
    "provider_id": None,
    "region_code": "astana",
    "period": "2026-11",
    "severity": "high",
    "summary": "coach marked in two groups at once on 1 day",
    "evidence": {"clashes": [{"day": "2026-11-03", "districts": ["yesil", "nura"]}], "sessions": 2},
    "raised_at": "2026-12-02T05:00:00Z",
    "status": "open",
    "reviewed_by": None,
    "reviewed_at": None,
    "review_note": None,
}
RECORD = {
    "entity": "child",
    "id": CHILD_ID,
    "flags": ["declared_birth_date_mismatch"],
    "region_code": "astana",
    "district_code": "yesil",
}


def test_attendance_risk_flags_and_registry_records_to_check_are_shown_apart(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services, "administrator")
    services.on("GET", "allocation", "/v1/regions", 200, REGIONS)
    services.on("GET", "attendance", "/v1/risk-flags", 200, {"items": [FLAG], "total": 1, "limit": 50, "offset": 0})
    services.on("GET", "registry", "/v1/review/flags", 200, {"items": [RECORD], "total": 1, "limit": 50, "offset": 0})
    page = portal.get("/admin/risk-flags?rule=coach_double_booked&period=2026-11")
    assert page.status_code == 200
    assert services.params("GET", "attendance", "/v1/risk-flags") == {
        "status": "open",
        "rule": "coach_double_booked",
        "period": "2026-11",
        "limit": "50",
        "offset": "0",
    }
    assert EN["oversight.risk.rule.coach_double_booked"] in page.text
    assert EN["oversight.records.title"] in page.text
    assert EN["oversight.records.flag.declared_birth_date_mismatch"] in page.text
    assert f'href="/admin/risk-flags/{FLAG_ID}"' in page.text
    services.on("POST", "registry", f"/v1/review/flags/child/{CHILD_ID}/clear", 204, None)
    cleared = portal.post(
        f"/admin/record-flags/child/{CHILD_ID}/clear", data={"csrf": csrf(portal)}, follow_redirects=False
    )
    assert cleared.status_code == 303 and cleared.headers["location"] == "/admin/risk-flags?cleared=1"


def test_an_auditor_reads_the_risk_flags_without_reviewing_or_registrys_queue(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services, "auditor")
    services.on("GET", "allocation", "/v1/regions", 200, REGIONS)
    services.on("GET", "attendance", "/v1/risk-flags", 200, {"items": [FLAG], "total": 1, "limit": 50, "offset": 0})
    services.on("GET", "attendance", f"/v1/risk-flags/{FLAG_ID}", 200, FLAG)
    assert portal.get("/admin/risk-flags").status_code == 200
    assert not services.requests("GET", "registry", "/v1/review/flags")  # registry answers officials only
    flag = portal.get(f"/admin/risk-flags/{FLAG_ID}")
    assert flag.status_code == 200 and "nura" in flag.text
    assert 'name="outcome"' not in flag.text


def test_a_flag_is_reviewed_with_an_outcome_and_a_note_told_next_to_the_field(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services, "operator", {"region": "astana"})
    services.on("GET", "attendance", f"/v1/risk-flags/{FLAG_ID}", 200, FLAG)
    page = portal.get(f"/admin/risk-flags/{FLAG_ID}")
    assert 'name="outcome"' in page.text and 'name="note"' in page.text
    empty = portal.post(f"/admin/risk-flags/{FLAG_ID}/review", data={"csrf": csrf(portal)})
    assert empty.status_code == 422
    assert '<p class="field-error" id="outcome-error">' in empty.text
    assert '<p class="field-error" id="note-error">' in empty.text
    review = f"/v1/risk-flags/{FLAG_ID}/review"
    problem = {"status": 422, "errors": [{"field": "body.note", "type": "string_too_long", "message": "long"}]}
    services.on("POST", "attendance", review, 422, problem)
    form = {"outcome": "dismissed", "note": "x", "csrf": csrf(portal)}
    refused = portal.post(f"/admin/risk-flags/{FLAG_ID}/review", data=form)
    assert refused.status_code == 422 and EN["errors.string_too_long"] in refused.text
    services.on("POST", "attendance", review, 200, {**FLAG, "status": "dismissed"})
    form["note"] = "a registered tournament"
    done = portal.post(f"/admin/risk-flags/{FLAG_ID}/review", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/admin/risk-flags/{FLAG_ID}?reviewed=1"
    assert services.sent("POST", "attendance", review) == {"outcome": "dismissed", "note": "a registered tournament"}


# --- reconciliation ------------------------------------------------------------------------------------------

REPORT = {
    "region_code": "astana",
    "periods": ["2026-11"],
    "checked_at": "2026-12-04T10:00:00Z",
    "checks": ["ledger_sums_to_zero", "accruals_match_attendance"],
    "findings": [
        {"check": "accruals_match_attendance", "subject": TIMESHEET_ID, "detail": "payable timesheet without accrual"}
    ],
}


def test_reconciliation_runs_for_the_chosen_region_and_month_and_lists_each_finding(
    portal: TestClient, services: Services
) -> None:
    sign_in(portal, services, "auditor")
    services.on("GET", "allocation", "/v1/regions", 200, REGIONS)
    services.on("GET", "payments", "/v1/reconciliation", 200, REPORT)
    form = portal.get("/admin/reconciliation")
    assert form.status_code == 200 and not services.requests("GET", "payments", "/v1/reconciliation")
    page = portal.get("/admin/reconciliation?region_code=astana&period=2026-11&run=1")
    assert page.status_code == 200
    assert services.params("GET", "payments", "/v1/reconciliation") == {"region_code": "astana", "period": "2026-11"}
    assert EN["oversight.reconciliation.check.accruals_match_attendance"] in page.text
    assert "payable timesheet without accrual" in page.text and TIMESHEET_ID in page.text
    assert 'data-check="ledger_sums_to_zero" data-findings="0"' in page.text
    services.seen.clear()
    wrong = portal.get("/admin/reconciliation?period=11-2026&run=1")
    assert wrong.status_code == 422 and '<p class="field-error" id="period-error">' in wrong.text
    assert not services.requests("GET", "payments", "/v1/reconciliation")


def test_an_operator_reaches_neither_reconciliation_nor_the_audit_trail(portal: TestClient, services: Services) -> None:
    sign_in(portal, services, "operator", {"region": "astana"})
    for path in ("/admin/reconciliation", "/admin/audit"):
        answer = portal.get(path, follow_redirects=False)
        assert answer.status_code in (302, 303, 307) and "/staff/login" in answer.headers["location"]


# --- the audit trail -----------------------------------------------------------------------------------------

ENTRY = {
    "id": 41,
    "chain": "registry/3",
    "seq": 7,
    "at": "2026-12-04T09:00:00Z",
    "actor": "administrator:a-1",
    "acting_for": None,
    "action": "role.granted",
    "entity": "staff",
    "entity_id": STAFF_ID,
    "summary": "role=auditor; scope=",
}


def test_the_audit_trail_of_the_chosen_service_is_filtered_and_paged(portal: TestClient, services: Services) -> None:
    sign_in(portal, services, "auditor")
    services.on("GET", "payments", "/v1/audit/entries", 200, {"items": [], "limit": 50, "next_before_id": None})
    services.on("GET", "registry", "/v1/audit/entries", 200, {"items": [ENTRY], "limit": 50, "next_before_id": 41})
    first = portal.get("/admin/audit")
    assert first.status_code == 200 and services.requests("GET", "registry", "/v1/audit/entries")
    page = portal.get(f"/admin/audit?service=registry&entity=staff&entity_id={STAFF_ID}")
    assert services.params("GET", "registry", "/v1/audit/entries") == {
        "entity": "staff",
        "entity_id": STAFF_ID,
        "limit": "50",
    }
    assert "role.granted" in page.text and "role=auditor" in page.text and "registry/3 · 7" in page.text
    older = f"/admin/audit?service=registry&amp;entity=staff&amp;entity_id={STAFF_ID}&amp;before_id=41"
    assert older in page.text  # the next, older page keeps the filters
    assert 'hx-get="/admin/audit/verify?service=registry"' in page.text
    portal.get("/admin/audit?service=payments&before_id=12")
    assert services.params("GET", "payments", "/v1/audit/entries") == {"before_id": "12", "limit": "50"}
    assert portal.get("/admin/audit?service=catalog").status_code == 404  # no audit trail there


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (
            {
                "ok": True,
                "rows": 12,
                "first_broken_seq": None,
                "first_broken_id": None,
                "reason": None,
                "heads_checked": 3,
                "latest_head_seq": 10,
            },
            'data-ok="true"',
        ),
        (
            {
                "ok": False,
                "rows": 5,
                "first_broken_seq": 4,
                "first_broken_id": 40,
                "reason": "prev_mac does not link",
                "heads_checked": 1,
                "latest_head_seq": 3,
                "first_broken_chain": "registry/2",
            },
            'data-ok="false"',
        ),
    ],
)
def test_the_verification_says_verified_or_names_the_first_broken_row(
    portal: TestClient, services: Services, answer: dict[str, object], shown: str
) -> None:
    sign_in(portal, services, "administrator")
    services.on("GET", "registry", "/v1/audit/verify", 200, answer)
    part = portal.get("/admin/audit/verify?service=registry", headers={"HX-Request": "true"})
    assert part.status_code == 200 and shown in part.text and "<html" not in part.text
    if answer["ok"]:
        assert EN["oversight.audit.verified"] in part.text
    else:
        assert "registry/2" in part.text and "prev_mac does not link" in part.text
    whole = portal.get("/admin/audit/verify?service=registry")
    assert "<html" in whole.text and shown in whole.text


@pytest.mark.parametrize("role", ["administrator", "auditor", "operator", "ops"])
def test_the_navigation_offers_each_role_the_oversight_pages_it_may_open(
    portal: TestClient, services: Services, role: str
) -> None:
    sign_in(portal, services, role, {"region": "astana"} if role == "operator" else {})
    services.on("GET", "allocation", "/v1/rounds", 200, {"items": [], "total": 0, "limit": 50, "offset": 0})
    home = portal.get("/admin")
    assert home.status_code == 200
    expected = {
        "administrator": {"disputes", "risk", "reconciliation", "audit"},
        "auditor": {"risk", "reconciliation", "audit"},
        "operator": {"disputes", "risk"},
        "ops": {"risk", "reconciliation"},
    }[role]
    links = {"disputes": "/admin/disputes", "risk": "/admin/risk-flags", "reconciliation": "/admin/reconciliation"}
    links["audit"] = "/admin/audit"
    for name, href in links.items():
        assert (f'href="{href}"' in home.text) == (name in expected), name
