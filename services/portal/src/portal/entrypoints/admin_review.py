"""Operators' review pages: the region's category claims to decide, and assisted registration at a consultation point.

Everything is registry's (``/v1/review/categories``, ``/v1/categories/{id}/verify|reject|check|amend|evidence``,
``/v1/assisted/children``, ``/v1/assisted/{change_id}/confirm``), called with the operator's own token: registry
scopes the queue to the operator's region (and district), decides who may open an evidence document, and refuses
what does not fit; its refusals land next to the field they name. The evidence document is streamed through as
registry serves it (its content type, never cached).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from portal.adapters import staff_api
from portal.adapters.api_client import ApiProblem, FieldErrors, ServiceUnavailable, error_code
from portal.entrypoints.pages import Csrf, Page, PageDep

router = APIRouter()
Text = Annotated[str, Form()]
REVIEWERS = ("operator", "administrator")
QUEUE_PAGE = 50
DECISION_FIELDS = ("valid_from", "valid_until", "reason")
ASSISTED_FIELDS = ("parent_iin", "iin", "region_code", "district_code", "declared_birth_date", "declared_sex")
# registry's error types this area words itself (the others read as the shared ``errors.*``)
OWN_ERRORS = {
    "outside_scope": "review_outside_scope",
    "person_not_registered": "review_person_not_registered",
    "unknown_district": "review_unknown_district",
    "unknown_region": "review_unknown_district",
    "before_valid_from": "review_before_valid_from",
    "guardian_not_adult": "review_guardian_not_adult",
    "code_invalid": "code_wrong",
}
NO_STORE = {"Cache-Control": "no-store"}
# what the portal passes on of the evidence download (registry's own headers: an attachment, sniffing off, sandboxed)
EVIDENCE_HEADERS = ("content-disposition", "x-content-type-options", "content-security-policy")


def problem_errors(problem: ApiProblem, *fields: str) -> FieldErrors:
    """The problem's errors by field, registry's own error types in this area's words; an error on a field the form
    does not show becomes a general one."""
    found = FieldErrors()
    for error in problem.body.get("errors") or []:
        if isinstance(error, dict):
            name = str(error.get("field", "")).split(".")[-1]
            kind = str(error.get("type", "invalid"))
            code = OWN_ERRORS.get(kind) or error_code(kind)
            if name in fields:
                found.add(name, code)
            else:
                found.general.append(code)
    return found or problem.field_errors(*fields)


def _dated(value: str) -> str | None:
    """A date field as the API takes it (empty: none given)."""
    return value.strip() or None


# --- categories to review ----------------------------------------------------------------------------------


async def _queue(page: Page, offset: int = 0) -> dict[str, Any]:
    answer: dict[str, Any] = await page.api.get(
        "registry", "/v1/review/categories", params={"offset": offset, "limit": QUEUE_PAGE}
    )
    return answer


async def _claim(page: Page, claim_id: str) -> dict[str, Any]:
    """The claim as the operator's queue shows it (registry has no single-claim read for operators): a claim not in
    the operator's queue (decided, another region) is the "not found" page."""
    offset = 0
    while True:
        answer = await _queue(page, offset)
        found: dict[str, Any] | None = next((c for c in answer.get("items", []) if str(c["id"]) == claim_id), None)
        if found is not None:
            return found
        offset += QUEUE_PAGE
        if offset >= int(answer.get("total", 0)) or not answer.get("items"):
            raise ApiProblem("registry", 404, {"status": 404, "title": "no such claim waiting"})


async def _queue_page(page: Page, offset: int = 0, errors: FieldErrors | None = None, status: int = 200) -> Response:
    offset = max(offset, 0)
    context: dict[str, Any] = {"claims": [], "total": 0, "offset": offset, "limit": QUEUE_PAGE, "operators_only": False}
    try:
        answer = await _queue(page, offset)
    except ApiProblem as problem:
        if problem.status != 403:
            raise
        context["operators_only"] = True  # registry's queue is the operators' (an administrator is refused)
    else:
        context |= {"claims": answer.get("items", []), "total": int(answer.get("total", 0))}
    return page.render("admin/categories.html", status_code=status, errors=errors, **context)


@router.get("/categories")
async def categories(page: PageDep, offset: int = 0) -> Response:
    """The operator's queue: declared claims of the region (and district), oldest first."""
    page.require(*REVIEWERS)
    return await _queue_page(page, offset)


async def _claim_page(
    page: Page,
    claim: dict[str, Any],
    form: dict[str, str],
    errors: FieldErrors | None = None,
    status: int = 200,
    checked: dict[str, Any] | None = None,
) -> Response:
    return page.render(
        "admin/categories_claim.html", status_code=status, errors=errors, claim=claim, form=form, checked=checked
    )


@router.get("/categories/{claim_id}")
async def claim(page: PageDep, claim_id: str) -> Response:
    page.require(*REVIEWERS)
    found = await _claim(page, claim_id)
    return await _claim_page(page, found, {})


@router.get("/categories/{claim_id}/evidence")
async def evidence(page: PageDep, claim_id: str) -> Response:
    """The claim's evidence document as registry serves it (registry decides who may open it, and audits it)."""
    page.require(*REVIEWERS)
    answer = await page.api.download("registry", f"/v1/categories/{claim_id}/evidence")
    headers = {name: answer.headers[name] for name in EVIDENCE_HEADERS if name in answer.headers} | NO_STORE
    media_type = answer.headers.get("content-type", "application/octet-stream")
    return Response(answer.content, media_type=media_type, headers=headers)


@router.post("/categories/{claim_id}/decision", dependencies=[Csrf])
async def decide(
    page: PageDep,
    claim_id: str,
    decision: Text = "",
    valid_from: Text = "",
    valid_until: Text = "",
    reason: Text = "",
) -> Response:
    """Verify (with its validity) or reject (with the reason) a declared claim."""
    page.require(*REVIEWERS)
    form = {"valid_from": valid_from, "valid_until": valid_until, "reason": reason}
    if decision not in ("verify", "reject"):
        return page.redirect(f"/admin/categories/{claim_id}")
    body: dict[str, Any] = {"reason": reason.strip() or None}
    if decision == "verify":
        body |= {"valid_from": _dated(valid_from), "valid_until": _dated(valid_until)}
    try:
        await page.api.post("registry", f"/v1/categories/{claim_id}/{decision}", json=body)
    except ApiProblem as problem:
        errors = problem_errors(problem, *DECISION_FIELDS)
        status = 422 if problem.status == 422 else 409
        try:
            found = await _claim(page, claim_id)
        except ApiProblem:  # decided meanwhile (by another operator): no longer waiting
            return await _queue_page(page, errors=FieldErrors(general=["conflict"]), status=409)
        return await _claim_page(page, found, form, errors, status=status)
    return page.redirect(f"/admin/categories?{'verified' if decision == 'verify' else 'rejected'}={claim_id}")


@router.post("/categories/{claim_id}/check", dependencies=[Csrf])
async def check(page: PageDep, claim_id: str) -> Response:
    """Ask the state registry through registry: a confirmed claim is verified there and then; otherwise it stays
    for the operator to decide, and the page says what the state registry answered."""
    page.require(*REVIEWERS)
    found = await _claim(page, claim_id)
    form: dict[str, str] = {}
    try:
        checked: dict[str, Any] = await page.api.post("registry", f"/v1/categories/{claim_id}/check")
    except ServiceUnavailable:
        return await _claim_page(page, found, form, FieldErrors(general=["review_state_registry_down"]), status=503)
    except ApiProblem as problem:
        return await _claim_page(page, found, form, problem_errors(problem), status=problem.status)
    if checked.get("status") == "verified":
        return page.redirect(f"/admin/categories?verified={claim_id}&checked=1")
    return await _claim_page(page, found, form, checked=checked)


@router.get("/categories/{claim_id}/amend")
async def amend_form(page: PageDep, claim_id: str) -> Response:
    """A verified claim's validity, to change on purpose (both dates, a reason)."""
    page.require(*REVIEWERS)
    return page.render("admin/categories_amend.html", claim_id=claim_id, form={})


@router.post("/categories/{claim_id}/amend", dependencies=[Csrf])
async def amend(
    page: PageDep, claim_id: str, valid_from: Text = "", valid_until: Text = "", reason: Text = ""
) -> Response:
    page.require(*REVIEWERS)
    form = {"valid_from": valid_from, "valid_until": valid_until, "reason": reason}
    body = {"valid_from": _dated(valid_from), "valid_until": _dated(valid_until), "reason": reason.strip()}
    try:
        await page.api.post("registry", f"/v1/categories/{claim_id}/amend", json=body)
    except ApiProblem as problem:
        errors = problem_errors(problem, *DECISION_FIELDS)
        if problem.status == 409:
            errors = FieldErrors(general=["review_not_verified"])
        elif problem.status == 404:
            errors = FieldErrors(general=["not_found"])
        status = problem.status if problem.status in (404, 409, 422) else 422
        return page.render(
            "admin/categories_amend.html", status_code=status, errors=errors, claim_id=claim_id, form=form
        )
    return page.redirect(f"/admin/categories?amended={claim_id}")


# --- assisted registration at a consultation point ------------------------------------------------------------


async def _assisted_page(
    page: Page, form: dict[str, str], errors: FieldErrors | None = None, status: int = 200
) -> Response:
    regions = await staff_api.regions(page.api)
    return page.render("admin/assisted.html", status_code=status, errors=errors, form=form, regions=regions)


@router.get("/assisted")
async def assisted_form(page: PageDep) -> Response:
    """The parent's IIN and the child's: registry sends the parent a code saying what it approves."""
    session = page.require(*REVIEWERS)
    scope = session.scope
    return await _assisted_page(
        page, {"region_code": scope.get("region", ""), "district_code": scope.get("district", "")}
    )


@router.post("/assisted", dependencies=[Csrf])
async def assisted_start(
    page: PageDep,
    parent_iin: Text = "",
    iin: Text = "",
    region_code: Text = "",
    district_code: Text = "",
    declared_birth_date: Text = "",
    declared_sex: Text = "",
) -> Response:
    page.require(*REVIEWERS)
    form = {
        "parent_iin": parent_iin.strip(),
        "iin": iin.strip(),
        "region_code": region_code,
        "district_code": district_code,
        "declared_birth_date": declared_birth_date.strip(),
        "declared_sex": declared_sex,
    }
    errors = FieldErrors()
    for name in ("parent_iin", "iin", "region_code", "district_code"):
        if not form[name]:
            errors.add(name, "missing")
    if errors:
        return await _assisted_page(page, form, errors, status=422)
    body: dict[str, Any] = {name: form[name] for name in ("parent_iin", "iin", "region_code", "district_code")}
    if form["declared_birth_date"]:
        body["declared_birth_date"] = form["declared_birth_date"]
    if form["declared_sex"]:
        body["declared_sex"] = form["declared_sex"]
    try:
        prepared = await page.api.post("registry", "/v1/assisted/children", json=body)
    except ApiProblem as problem:
        found = problem_errors(problem, *ASSISTED_FIELDS)
        return await _assisted_page(page, form, found, status=422 if problem.status == 422 else problem.status)
    return page.redirect(f"/admin/assisted/{prepared['change_id']}")


@router.get("/assisted/{change_id}")
async def assisted_pending(page: PageDep, change_id: str) -> Response:
    """The prepared change waits for the code the parent received: the operator types what the parent reads out."""
    page.require(*REVIEWERS)
    answer = page.render("admin/assisted_confirm.html", change_id=change_id)
    answer.headers.update(NO_STORE)
    return answer


@router.post("/assisted/{change_id}", dependencies=[Csrf])
async def assisted_confirm(page: PageDep, change_id: str, code: Text = "") -> Response:
    page.require(*REVIEWERS)
    code = code.strip()
    errors = FieldErrors()
    if not code:
        errors.add("code", "missing")
    else:
        try:
            child = await page.api.post("registry", f"/v1/assisted/{change_id}/confirm", json={"code": code})
        except ApiProblem as problem:
            errors = problem_errors(problem, "code")
            if problem.status == 404:
                errors = FieldErrors(general=["review_no_pending_change"])
        else:
            answer = page.render("admin/assisted_done.html", child=child)
            answer.headers.update(NO_STORE)
            return answer
    return page.render("admin/assisted_confirm.html", status_code=422, errors=errors, change_id=change_id)
