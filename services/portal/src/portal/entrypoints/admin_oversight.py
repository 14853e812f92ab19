"""Oversight pages for operators, administrators and auditors: disputes and their resolution, risk flags (attendance's
fraud and quality signals) and records to check (registry's records whose declared data disagrees with the IIN),
reconciliation findings (payments) and each service's audit trail with its verification.

Everything comes from the APIs with the signed-in person's token: attendance (``/v1/disputes``, ``/v1/timesheets``,
``/v1/risk-flags``), registry (``/v1/review/flags``), payments (``/v1/reconciliation``) and every service with an
audit trail (``/v1/audit/entries``, ``/v1/audit/verify``). The rules are the services': which disputes and flags an
operator sees (their region's), who may resolve or review, what counts as a finding, whether a trail verifies; their
refusals are shown next to the field they name. The portal only turns a dispute's session times into the region's
local date and time (the resolution names sessions as the API documents: local date and start time).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from portal.adapters import oversight_api, staff_api
from portal.adapters.api_client import ApiProblem, FieldErrors, error_code, status_code
from portal.entrypoints.pages import STAFF_ROLES, Csrf, Page, PageDep
from portal.entrypoints.staff_format import PERIOD

router = APIRouter()
Text = Annotated[str, Form()]

OFFICIALS = ("operator", "administrator")  # decide disputes and flags, and see registry's records to check
FLAG_READERS = tuple(sorted(STAFF_ROLES))  # operators (their region's), administrators, auditors, ops
RECONCILERS = ("administrator", "auditor", "ops")
AUDIT_READERS = ("administrator", "auditor")

DISPUTE_STATUSES = ("open", "resolved", "all")
RULINGS = ("guardian_upheld", "provider_upheld")
FLAG_STATUSES = ("open", "dismissed", "confirmed", "all")
RISK_RULES = (
    "coach_double_booked",
    "facility_over_capacity",
    "closure_day_attendance",
    "identical_patterns",
    "guardian_never_confirms",
    "enrolled_in_two_regions",
    "drop_after_inspection_notice",
)
REVIEW_OUTCOMES = ("dismissed", "confirmed")
RECORD_ENTITIES = ("child", "person")
PAGE_SIZE = 50
MAX_OFFSET = 1_000_000
RULING_FIELD = re.compile(r"^(?:body\.)?rulings\[(\d+)\]")


def _offset(value: str) -> int:
    return min(int(value), MAX_OFFSET) if value.isdigit() else 0


def _pages(request: Request, page: dict[str, Any], offset: int) -> dict[str, str | None]:
    """Links to the previous and next page of a chassis page, keeping the page's other query parameters."""
    total = int(page.get("total") or 0)
    query = {k: v for k, v in request.query_params.items() if k != "offset"}

    def link(to: int) -> str:
        return f"{request.url.path}?{urlencode({**query, 'offset': to})}"

    return {
        "previous": link(max(offset - PAGE_SIZE, 0)) if offset > 0 else None,
        "next": link(offset + PAGE_SIZE) if offset + PAGE_SIZE < total else None,
    }


# --- disputes ----------------------------------------------------------------------------------------------


@router.get("/disputes")
async def disputes(page: PageDep, request: Request, status: str = "open", offset: str = "0") -> Response:
    """Disputes the caller may decide (attendance scopes an operator to their region, or district), oldest first."""
    page.require(*OFFICIALS)
    chosen = status if status in DISPUTE_STATUSES else "open"
    start = _offset(offset)
    found = await oversight_api.disputes(page.api, None if chosen == "all" else chosen, start, PAGE_SIZE)
    return page.render(
        "admin/disputes.html",
        disputes=found["items"],
        total=found.get("total", len(found["items"])),
        status=chosen,
        statuses=DISPUTE_STATUSES,
        pages=_pages(request, found, start),
    )


def _local(moment: str, timezone: str) -> tuple[str, str]:
    """An API time (ISO, UTC) as the region's local date and HH:MM."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(zone)
    return local.date().isoformat(), local.strftime("%H:%M")


def _disputed_sessions(month: dict[str, Any]) -> list[dict[str, Any]]:
    dispute = month.get("dispute") or {}
    sessions = []
    for n, session in enumerate(dispute.get("sessions") or []):
        day, start = _local(str(session["starts_at"]), str(month.get("timezone") or "UTC"))
        sessions.append({**session, "n": n, "day": day, "start": start})
    return sessions


async def _month_page(
    page: Page,
    month: dict[str, Any],
    form: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> Response:
    return page.render(
        "admin/disputes_month.html",
        status_code=status,
        errors=errors,
        month=month,
        dispute=month.get("dispute"),
        sessions=_disputed_sessions(month),
        rulings=RULINGS,
        form=form or {},
        may_resolve=page.session is not None and page.session.role in OFFICIALS,
    )


@router.get("/timesheets/{timesheet_id}")
async def dispute_month(page: PageDep, timesheet_id: str) -> Response:
    """The disputed month: what the provider marked, what the parent says of each session and why; the resolution."""
    page.require(*OFFICIALS)
    return await _month_page(page, await oversight_api.timesheet(page.api, timesheet_id))


def _resolve_errors(problem: ApiProblem, sessions: int) -> FieldErrors:
    """attendance names ``rulings[i].date`` (that session), ``rulings`` (one missing) or ``comment``: each lands next
    to its session's choice, the choices, or the comment."""
    found = FieldErrors()
    for error in problem.body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        name = str(error.get("field", ""))
        code = error_code(str(error.get("type", "invalid")))
        matched = RULING_FIELD.match(name)
        if matched and int(matched.group(1)) < sessions:
            found.add(f"ruling-{matched.group(1)}", code)
        elif name.split(".")[-1] in ("rulings", "comment"):
            found.add(name.split(".")[-1], code)
        else:
            found.general.append(code)
    if not found:
        found.general.append(status_code(problem.status))
    return found


@router.post("/timesheets/{timesheet_id}/resolve", dependencies=[Csrf])
async def resolve_dispute(page: PageDep, request: Request, timesheet_id: str, comment: Text = "") -> Response:
    """A ruling on every disputed session (the parent upheld, or the provider) and a comment, sent as attendance's
    ``rulings`` naming each session by its local date and start time."""
    page.require(*OFFICIALS)
    month = await oversight_api.timesheet(page.api, timesheet_id)
    dispute = month.get("dispute")
    if not dispute:
        raise HTTPException(status_code=404)
    sessions = _disputed_sessions(month)
    submitted = await request.form()
    form = {f"ruling-{s['n']}": str(submitted.get(f"ruling-{s['n']}") or "") for s in sessions}
    form["comment"] = comment.strip()
    errors = FieldErrors()
    for s in sessions:
        if form[f"ruling-{s['n']}"] not in RULINGS:
            errors.add(f"ruling-{s['n']}", "missing")
    if not form["comment"]:
        errors.add("comment", "missing")
    if errors:
        return await _month_page(page, month, form, errors, status=422)
    body = {
        "rulings": [{"date": s["day"], "starts_at": s["start"], "ruling": form[f"ruling-{s['n']}"]} for s in sessions],
        "comment": form["comment"],
    }
    try:
        await oversight_api.resolve_dispute(page.api, str(dispute["id"]), body)
    except ApiProblem as problem:
        found = _resolve_errors(problem, len(sessions))
        code = problem.status if problem.status in (403, 404, 409) else 422
        return await _month_page(page, month, form, found, status=code)
    return page.redirect(f"/admin/timesheets/{timesheet_id}?resolved=1")


# --- risk flags and records to check --------------------------------------------------------------------------


@router.get("/risk-flags")
async def risk_flags(
    page: PageDep,
    request: Request,
    status: str = "open",
    rule: str = "",
    region_code: str = "",
    period: str = "",
    offset: str = "0",
) -> Response:
    """attendance's risk flags (an operator sees their region's) and, for officials, registry's records to check:
    two different things, shown apart."""
    session = page.require(*FLAG_READERS)
    form = {
        "status": status if status in FLAG_STATUSES else "open",
        "rule": rule if rule in RISK_RULES else "",
        "region_code": region_code.strip() if session.role != "operator" else "",
        "period": period.strip(),
    }
    errors = FieldErrors()
    if form["period"] and not PERIOD.match(form["period"]):
        errors.add("period", "period_format")
    start = _offset(offset)
    flags: dict[str, Any] = {"items": [], "total": 0}
    if not errors:
        filters = {**form, "status": "" if form["status"] == "all" else form["status"]}
        try:
            flags = await oversight_api.risk_flags(page.api, filters, start, PAGE_SIZE)
        except ApiProblem as problem:
            if problem.status != 422:
                raise
            errors = problem.field_errors("region_code", "period", "rule", "status")
    records: dict[str, Any] | None = None
    if session.role in OFFICIALS:
        records = await oversight_api.records_to_check(page.api, 0, PAGE_SIZE)
    regions = await staff_api.regions(page.api) if session.role != "operator" else []
    return page.render(
        "admin/risk_flags.html",
        status_code=422 if errors else 200,
        errors=errors,
        flags=flags["items"],
        total=flags.get("total", len(flags["items"])),
        pages=_pages(request, flags, start),
        records=records,
        form=form,
        statuses=FLAG_STATUSES,
        rules=RISK_RULES,
        regions=regions,
    )


async def _flag_page(
    page: Page,
    flag: dict[str, Any],
    form: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> Response:
    return page.render(
        "admin/risk_flag.html",
        status_code=status,
        errors=errors,
        flag=flag,
        form=form or {},
        outcomes=REVIEW_OUTCOMES,
        may_review=page.session is not None and page.session.role in OFFICIALS,
    )


@router.get("/risk-flags/{flag_id}")
async def risk_flag(page: PageDep, flag_id: str) -> Response:
    page.require(*FLAG_READERS)
    return await _flag_page(page, await oversight_api.risk_flag(page.api, flag_id))


@router.post("/risk-flags/{flag_id}/review", dependencies=[Csrf])
async def review_risk_flag(page: PageDep, flag_id: str, outcome: Text = "", note: Text = "") -> Response:
    """What the check found: dismissed or confirmed, with a note (attendance records who and when)."""
    page.require(*OFFICIALS)
    form = {"outcome": outcome, "note": note.strip()}
    errors = FieldErrors()
    if outcome not in REVIEW_OUTCOMES:
        errors.add("outcome", "missing")
    if not form["note"]:
        errors.add("note", "missing")
    if not errors:
        try:
            await oversight_api.review_risk_flag(page.api, flag_id, outcome, form["note"])
        except ApiProblem as problem:
            errors = problem.field_errors("outcome", "note")
            flag = await oversight_api.risk_flag(page.api, flag_id)
            code = problem.status if problem.status in (403, 404, 409) else 422
            return await _flag_page(page, flag, form, errors, status=code)
        return page.redirect(f"/admin/risk-flags/{flag_id}?reviewed=1")
    return await _flag_page(page, await oversight_api.risk_flag(page.api, flag_id), form, errors, status=422)


@router.post("/record-flags/{entity}/{row_id}/clear", dependencies=[Csrf])
async def clear_record_flags(page: PageDep, entity: str, row_id: str) -> Response:
    """registry's flags of a child or person cleared after checking the documents (registry audits it)."""
    page.require(*OFFICIALS)
    if entity not in RECORD_ENTITIES:
        raise HTTPException(status_code=404)
    await oversight_api.clear_record_flags(page.api, entity, row_id)
    return page.redirect("/admin/risk-flags?cleared=1")


# --- reconciliation ----------------------------------------------------------------------------------------


@router.get("/reconciliation")
async def reconciliation(page: PageDep, region_code: str = "", period: str = "", run: str = "") -> Response:
    """payments' reconciliation (the ledger against itself, allocation's vouchers and attendance's payable months),
    run when asked: it reads other services, so opening the page does not start it."""
    page.require(*RECONCILERS)
    form = {"region_code": region_code.strip(), "period": period.strip()}
    errors = FieldErrors()
    if form["period"] and not PERIOD.match(form["period"]):
        errors.add("period", "period_format")
    report: dict[str, Any] | None = None
    if run and not errors:
        try:
            report = await oversight_api.reconciliation(page.api, form["region_code"], form["period"])
        except ApiProblem as problem:
            if problem.status != 422:
                raise
            errors = problem.field_errors("region_code", "period")
    counts: dict[str, int] = {}
    if report is not None:
        counts = {check: 0 for check in report.get("checks", [])}
        for finding in report.get("findings", []):
            counts[finding["check"]] = counts.get(finding["check"], 0) + 1
    regions = await staff_api.regions(page.api)
    return page.render(
        "admin/reconciliation.html",
        status_code=422 if errors else 200,
        errors=errors,
        form=form,
        regions=regions,
        report=report,
        counts=counts,
    )


# --- the audit trail ---------------------------------------------------------------------------------------


def _audited(service: str) -> str:
    if service not in oversight_api.AUDITED_SERVICES:
        raise HTTPException(status_code=404)
    return service


@router.get("/audit")
async def audit(
    page: PageDep, service: str = "registry", entity: str = "", entity_id: str = "", before_id: str = ""
) -> Response:
    """A service's audit trail, newest first, filtered by entity and id; its verification loads beside it."""
    page.require(*AUDIT_READERS)
    chosen = _audited(service)
    form = {"entity": entity.strip(), "entity_id": entity_id.strip()}
    filters = {**form, "before_id": before_id if before_id.isdigit() else ""}
    errors = FieldErrors()
    entries: dict[str, Any] = {"items": [], "next_before_id": None}
    try:
        entries = await oversight_api.audit_entries(page.api, chosen, filters, PAGE_SIZE)
    except ApiProblem as problem:
        if problem.status != 422:
            raise
        errors = problem.field_errors("entity", "entity_id")
    older = None
    if entries.get("next_before_id"):
        query = {"service": chosen, **{k: v for k, v in form.items() if v}, "before_id": entries["next_before_id"]}
        older = f"/admin/audit?{urlencode(query)}"
    return page.render(
        "admin/audit.html",
        status_code=422 if errors else 200,
        errors=errors,
        service=chosen,
        services=oversight_api.AUDITED_SERVICES,
        form=form,
        entries=entries.get("items", []),
        older=older,
        newest=f"/admin/audit?{urlencode({'service': chosen, **{k: v for k, v in form.items() if v}})}"
        if filters["before_id"]
        else None,
    )


@router.get("/audit/verify")
async def audit_verification(page: PageDep, request: Request, service: str = "registry") -> Response:
    """The service's own verification of its trail (every row's keyed MAC and link, every signed head): the part
    htmx loads into the audit page, or a page of its own without JavaScript."""
    page.require(*AUDIT_READERS)
    chosen = _audited(service)
    result = await oversight_api.audit_verification(page.api, chosen)
    template = "admin/audit_verification.html" if request.headers.get("hx-request") else "admin/audit_verify.html"
    return page.render(template, service=chosen, verification=result)
