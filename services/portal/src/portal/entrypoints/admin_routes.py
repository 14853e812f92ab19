"""Operators' and administrators' pages: rounds (open, close, allocate), regions (apply a region file), providers
to verify, and payment batches with maker–checker approval and the pain.001 download.

Everything comes from the APIs with the signed-in person's token: allocation (regions, rounds), catalog
(providers), payments (batches). The rules are the services': who may approve a batch (not its maker), which round
move is possible, what a region file must hold; their refusals are shown next to the field they name.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from portal.adapters import staff_api
from portal.adapters.api_client import ApiProblem, FieldErrors
from portal.entrypoints import admin_oversight, admin_review, admin_rounds
from portal.entrypoints.pages import STAFF_ROLES, Csrf, Page, PageDep
from portal.entrypoints.staff_format import PERIOD

router = APIRouter(prefix="/admin")
router.include_router(admin_rounds.router)  # first: /rounds/{id}/simulate is not one of the round moves below
Text = Annotated[str, Form()]
ADMINISTRATOR = "administrator"
ROUND_ACTIONS = ("open", "close", "allocate")
EARLY_CLOSE_REASONS = ("demand_met", "emergency", "schedule_change", "configuration_error")
MAX_REGION_FILE = 256 * 1024


@router.get("")
async def home(page: PageDep) -> Response:
    page.require(*STAFF_ROLES)
    rounds = await staff_api.rounds(page.api)
    return page.render("admin/home.html", rounds=rounds, reasons=EARLY_CLOSE_REASONS, notice=None)


@router.post("/rounds/{round_id}/{action}", dependencies=[Csrf])
async def round_action(page: PageDep, round_id: str, action: str, reason: Text = "") -> Response:
    page.require(ADMINISTRATOR)
    if action not in ROUND_ACTIONS:
        return page.redirect("/admin")
    body = {"reason": reason} if action == "close" and reason else None
    try:
        await staff_api.round_action(page.api, round_id, action, body)
    except ApiProblem as problem:
        rounds = await staff_api.rounds(page.api)
        errors = problem.field_errors("reason")
        return page.render(
            "admin/home.html",
            status_code=422 if problem.status == 422 else 409,
            errors=errors,
            rounds=rounds,
            reasons=EARLY_CLOSE_REASONS,
            failed_round=round_id,
            notice=None,
        )
    return page.redirect(f"/admin?done={action}")


# --- regions -----------------------------------------------------------------------------------------------


async def _regions_page(
    page: Page, errors: FieldErrors | None = None, paths: list[str] | None = None, status: int = 200
) -> Response:
    regions = await staff_api.regions(page.api)
    return page.render("admin/regions.html", status_code=status, errors=errors, regions=regions, paths=paths or [])


@router.get("/regions")
async def regions(page: PageDep) -> Response:
    page.require(*STAFF_ROLES)
    return await _regions_page(page)


def _problem_paths(problem: ApiProblem) -> list[str]:
    """Where in the file the API found each problem (``voucher.months``), so the administrator can find it."""
    paths = []
    for error in problem.body.get("errors") or []:
        if isinstance(error, dict) and error.get("field"):
            field = str(error["field"])
            paths.append(field.removeprefix("body."))
    return paths


@router.post("/regions", dependencies=[Csrf])
async def apply_region(page: PageDep, file: Annotated[UploadFile | None, File()] = None) -> Response:
    """A region file (the shape of deploy/regions/*.yaml) uploaded, read as YAML and sent to allocation as is."""
    page.require(ADMINISTRATOR)
    errors = FieldErrors()
    content = await file.read(MAX_REGION_FILE + 1) if file is not None else b""
    config: Any = None
    if not content:
        errors.add("file", "missing")
    elif len(content) > MAX_REGION_FILE:
        errors.add("file", "file_too_large")
    else:
        try:
            # YAML dates become ISO strings: the API reads the same JSON the file's text means
            config = json.loads(json.dumps(yaml.safe_load(content.decode("utf-8")), default=str))
        except (yaml.YAMLError, UnicodeDecodeError):
            errors.add("file", "yaml_invalid")
        else:
            if not isinstance(config, dict) or not isinstance(config.get("code"), str):
                errors.add("file", "region_code_missing")
    if errors:
        return await _regions_page(page, errors, status=422)
    assert isinstance(config, dict)
    try:
        await staff_api.apply_region(page.api, str(config["code"]), config)
    except ApiProblem as problem:
        found = FieldErrors()
        found.add("file", "region_rejected")
        return await _regions_page(page, found, _problem_paths(problem), status=422)
    return page.redirect(f"/admin/regions?applied={config['code']}")


# --- providers to verify -----------------------------------------------------------------------------------


@router.get("/providers")
async def providers(page: PageDep, status: str = "pending") -> Response:
    page.require("operator", ADMINISTRATOR)
    chosen = status if status in ("pending", "verified", "rejected", "suspended") else "pending"
    found = await staff_api.providers(page.api, chosen)
    return page.render("admin/providers.html", providers=found, status=chosen)


@router.post("/providers/{provider_id}/decision", dependencies=[Csrf])
async def decide(page: PageDep, provider_id: str, action: Text = "") -> Response:
    page.require("operator", ADMINISTRATOR)
    if action not in ("verify", "reject"):
        return page.redirect("/admin/providers")
    try:
        await staff_api.decide_provider(page.api, provider_id, action)
    except ApiProblem as problem:
        found = await staff_api.providers(page.api, "pending")
        return page.render(
            "admin/providers.html", status_code=422, errors=problem.field_errors(), providers=found, status="pending"
        )
    return page.redirect(f"/admin/providers?done={action}")


# --- payment batches ---------------------------------------------------------------------------------------


async def _batches_page(
    page: Page, form: dict[str, str], errors: FieldErrors | None = None, status: int = 200
) -> Response:
    batches = await staff_api.batches(page.api)
    regions = await staff_api.regions(page.api)
    return page.render(
        "admin/batches.html", status_code=status, errors=errors, batches=batches, regions=regions, form=form
    )


@router.get("/batches")
async def batches(page: PageDep) -> Response:
    page.require(ADMINISTRATOR, "auditor")
    return await _batches_page(page, {})


@router.post("/batches", dependencies=[Csrf])
async def prepare_batch(page: PageDep, region_code: Text = "", period: Text = "") -> Response:
    """The maker: prepare a region's month (payments groups the unpaid accruals per provider)."""
    page.require(ADMINISTRATOR)
    form = {"region_code": region_code, "period": period.strip()}
    errors = FieldErrors()
    if not region_code:
        errors.add("region_code", "missing")
    if not form["period"]:
        errors.add("period", "missing")
    elif not PERIOD.match(form["period"]):
        errors.add("period", "period_format")
    if errors:
        return await _batches_page(page, form, errors, status=422)
    try:
        made = await staff_api.prepare_batch(page.api, region_code, form["period"])
    except ApiProblem as problem:
        found = problem.field_errors("region_code", "period")
        if problem.status == 409:
            found = FieldErrors(general=["batch_nothing_to_pay"])
        return await _batches_page(page, form, found, status=422 if problem.status == 422 else 409)
    return page.redirect(f"/admin/batches/{made['batch_id']}?prepared=1")


async def _batch_page(page: Page, batch_id: str, errors: FieldErrors | None = None, status: int = 200) -> Response:
    found = await staff_api.batch(page.api, batch_id)
    mine = page.session is not None and found["prepared_by"] == page.session.subject
    return page.render("admin/batch.html", status_code=status, errors=errors, batch=found, mine=mine)


@router.get("/batches/{batch_id}")
async def batch(page: PageDep, batch_id: str) -> Response:
    page.require(ADMINISTRATOR, "auditor")
    return await _batch_page(page, batch_id)


@router.post("/batches/{batch_id}/approve", dependencies=[Csrf])
async def approve(page: PageDep, batch_id: str) -> Response:
    """The checker: payments refuses the maker (403) and any batch not waiting (409); both read as a message."""
    page.require(ADMINISTRATOR)
    try:
        await staff_api.approve_batch(page.api, batch_id)
    except ApiProblem as problem:
        code = {403: "batch_own", 409: "batch_not_prepared"}.get(problem.status)
        errors = FieldErrors(general=[code]) if code else problem.field_errors()
        return await _batch_page(page, batch_id, errors, status=problem.status if code else 422)
    return page.redirect(f"/admin/batches/{batch_id}?approved=1")


@router.get("/batches/{batch_id}/payment-order")
async def payment_order(page: PageDep, batch_id: str) -> Response:
    """The pain.001 XML as payments serves it, as a download (its sha256 header passed on)."""
    page.require(ADMINISTRATOR, "auditor")
    answer = await page.api.download("payments", f"/v1/batches/{batch_id}/payment-order")
    headers = {"Content-Disposition": f'attachment; filename="pain001-{batch_id}.xml"'}
    if "x-content-sha256" in answer.headers:
        headers["X-Content-SHA256"] = answer.headers["x-content-sha256"]
    return Response(answer.content, media_type="application/xml", headers=headers)


# --- staff accounts ----------------------------------------------------------------------------------------

STAFF_ACCOUNT_ROLES = ("provider_staff", "operator", "administrator", "auditor")
STAFF_ACCOUNT_FIELDS = ("username", "role", "region", "district", "provider")


async def _staff_page(
    page: Page, form: dict[str, str], errors: FieldErrors | None = None, status: int = 200
) -> Response:
    regions = await staff_api.regions(page.api)
    accounts = await staff_api.staff_accounts(page.api)
    return page.render(
        "admin/staff.html",
        status_code=status,
        errors=errors,
        form=form,
        roles=STAFF_ACCOUNT_ROLES,
        regions=regions,
        accounts=accounts,
    )


@router.get("/staff")
async def staff_form(page: PageDep, provider: str = "") -> Response:
    """A new staff account; ``?provider=`` fills in the organisation (the link a verified provider's row offers)."""
    page.require(ADMINISTRATOR)
    return await _staff_page(page, {"role": "provider_staff" if provider else "", "provider": provider})


@router.post("/staff", dependencies=[Csrf])
async def create_staff(
    page: PageDep, username: Text = "", role: Text = "", region: Text = "", district: Text = "", provider: Text = ""
) -> Response:
    """Registry's ``POST /v1/staff``: the one-time password and TOTP secret are shown once, on the answer page
    (never stored here, and the page is not cached)."""
    page.require(ADMINISTRATOR)
    form = {"username": username.strip(), "role": role, "region": region, "district": district.strip()}
    form["provider"] = provider.strip()
    errors = FieldErrors()
    for name in ("username", "role"):
        if not form[name]:
            errors.add(name, "missing")
    if errors:
        return await _staff_page(page, form, errors, status=422)
    scope = {name: form[name] for name in ("region", "district", "provider") if form[name]}
    try:
        created = await staff_api.create_staff(page.api, form["username"], form["role"], scope)
    except ApiProblem as problem:
        found = problem.field_errors(*STAFF_ACCOUNT_FIELDS)
        if problem.status == 409:
            found = FieldErrors()
            found.add("username", "username_taken")
        return await _staff_page(page, form, found, status=422 if problem.status == 422 else 409)
    answer = page.render("admin/staff_created.html", created=created, role=form["role"], scope=scope)
    answer.headers["Cache-Control"] = "no-store"
    return answer


# --- a staff account's access (role and scope) ---------------------------------------------------------------

ACCESS_FIELDS = ("role", "region", "district", "provider")


async def _access_page(
    page: Page, account: dict[str, Any], form: dict[str, str], errors: FieldErrors | None = None, status: int = 200
) -> Response:
    regions = await staff_api.regions(page.api)
    return page.render(
        "admin/staff_access.html",
        status_code=status,
        errors=errors,
        account=account,
        form=form,
        roles=STAFF_ACCOUNT_ROLES,
        regions=regions,
    )


async def _account(page: Page, staff_id: str) -> dict[str, Any]:
    """The account as registry lists it; an id it does not list is the "not found" page."""
    found = next((a for a in await staff_api.staff_accounts(page.api) if str(a["id"]) == staff_id), None)
    if found is None:
        raise ApiProblem("registry", 404, {"status": 404, "title": "no such staff account"})
    return found


@router.get("/staff/{staff_id}")
async def staff_access_form(page: PageDep, staff_id: str) -> Response:
    """The account's role and scope, to change (registry's ``PATCH /v1/staff/{id}``)."""
    page.require(ADMINISTRATOR)
    account = await _account(page, staff_id)
    scope = account.get("scope") or {}
    form = {
        "role": str(account["role"]),
        **{name: str(scope.get(name, "")) for name in ("region", "district", "provider")},
    }
    return await _access_page(page, account, form)


@router.post("/staff/{staff_id}", dependencies=[Csrf])
async def change_staff_access(
    page: PageDep, staff_id: str, role: Text = "", region: Text = "", district: Text = "", provider: Text = ""
) -> Response:
    """Replace the account's scope (and role); registry refuses what does not fit (an operator with no region, an
    administrator's own account), next to the field it names."""
    page.require(ADMINISTRATOR)
    account = await _account(page, staff_id)
    form = {"role": role, "region": region, "district": district.strip(), "provider": provider.strip()}
    if not form["role"]:
        errors = FieldErrors()
        errors.add("role", "missing")
        return await _access_page(page, account, form, errors, status=422)
    scope = {name: form[name] for name in ("region", "district", "provider") if form[name]}
    try:
        await staff_api.change_staff_access(page.api, staff_id, form["role"], scope)
    except ApiProblem as problem:
        found = problem.field_errors(*ACCESS_FIELDS)
        if problem.status == 409:
            found = FieldErrors()
            found.general.append("staff_own")
        return await _access_page(page, account, form, found, status=problem.status if problem.status < 500 else 422)
    return page.redirect(f"/admin/staff?changed={account['username']}")


router.include_router(admin_review.router)  # categories to review and assisted registration (operators)
router.include_router(admin_oversight.router)  # disputes, risk flags, reconciliation, audit trails
