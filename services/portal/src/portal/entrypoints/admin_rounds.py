"""Administrators' round pages: create a round (allocation's ``POST /v1/rounds``) and simulate changed weights and
quotas for an allocated round (``POST /v1/rounds/{id}/simulate``), showing the difference the API computes.

The portal decides nothing: the region's districts, directions and the round's weights are read from allocation, the
form's values are sent as they are (the budget asked in whole tenge is sent in tiyn; a window's local times are sent
with the region's time-zone offset), and every refusal comes back as problem+json and is shown next to its field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request
from fastapi.responses import Response

from portal.adapters import staff_api
from portal.adapters.api_client import ApiProblem, FieldErrors, error_code, status_code
from portal.entrypoints.pages import Csrf, Page, PageDep

router = APIRouter()
ADMINISTRATOR = "administrator"
ROUND_FIELDS = (
    "region_code",
    "name",
    "budget_tiyn",
    "application_opens_at",
    "application_closes_at",
    "reference_date",
    "voucher_valid_until",
)


def problem_errors(problem: ApiProblem, known: set[str]) -> FieldErrors:
    """The problem's errors by the form's field names, which are the API's dotted paths (``quotas.yesil.sports``,
    ``weights.orphan``); an error on a path the form does not show becomes a general one."""
    found = FieldErrors()
    for error in problem.body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        name = str(error.get("field", "")).removeprefix("body.")
        code = error_code(str(error.get("type", "invalid")))
        if name in known:
            found.add(name, code)
        elif name.split(".")[0] in known:
            found.add(name.split(".")[0], code)
        else:
            found.general.append(code)
    if not found:
        found.general.append(status_code(problem.status))
    return found


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await request.form()).items() if k != "csrf"}


def _quota_cells(region: dict[str, Any]) -> list[tuple[str, str]]:
    return [(d["code"], direction) for d in region.get("districts", []) for direction in region.get("directions", [])]


def _local_time(value: str, region: dict[str, Any]) -> str:
    """A ``datetime-local`` value with the region's offset (the API takes aware times); anything else as typed."""
    try:
        moment = datetime.fromisoformat(value)
        zone = ZoneInfo(str(region.get("timezone") or "UTC"))
    except (ValueError, ZoneInfoNotFoundError):
        return value
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()


def _count(form: dict[str, str], name: str, errors: FieldErrors) -> int | None:
    text = form.get(name, "")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        errors.add(name, "invalid")
        return None


# --- a new round -------------------------------------------------------------------------------------------


async def _new_page(page: Page, form: dict[str, str], errors: FieldErrors | None = None, status: int = 200) -> Response:
    regions = await staff_api.regions(page.api)
    region = next((r for r in regions if r.get("code") == form.get("region_code")), None)
    return page.render(
        "admin/round_new.html",
        status_code=status,
        errors=errors,
        regions=regions,
        region=region,
        cells=_quota_cells(region) if region else [],
        form=form,
    )


@router.get("/rounds/new")
async def new_round(page: PageDep, region_code: str = "") -> Response:
    """The region first (its districts and directions make the quota grid), then the round's details."""
    page.require(ADMINISTRATOR)
    return await _new_page(page, {"region_code": region_code})


@router.post("/rounds/new", dependencies=[Csrf])
async def create_round(page: PageDep, request: Request) -> Response:
    page.require(ADMINISTRATOR)
    form = await _form(request)
    regions = await staff_api.regions(page.api)
    region = next((r for r in regions if r.get("code") == form.get("region_code")), None)
    errors = FieldErrors()
    if region is None:
        errors.add("region_code", "missing")
        return await _new_page(page, form, errors, status=422)
    for name in ROUND_FIELDS:
        if not form.get(name):
            errors.add(name, "missing")
    budget = _count(form, "budget_tiyn", errors)
    quotas: dict[str, dict[str, int]] = {}
    for district, direction in _quota_cells(region):
        count = _count(form, f"quotas.{district}.{direction}", errors)
        if count:
            quotas.setdefault(district, {})[direction] = count
    if errors:
        return await _new_page(page, form, errors, status=422)
    body = {
        "region_code": form["region_code"],
        "name": form["name"],
        "budget_tiyn": (budget or 0) * 100,  # the form asks for whole tenge
        "quotas": quotas,
        "application_opens_at": _local_time(form["application_opens_at"], region),
        "application_closes_at": _local_time(form["application_closes_at"], region),
        "reference_date": form["reference_date"],
        "voucher_valid_until": form["voucher_valid_until"],
    }
    try:
        created = await staff_api.create_round(page.api, body)
    except ApiProblem as problem:
        known = set(ROUND_FIELDS) | {"quotas"} | {f"quotas.{d}.{k}" for d, k in _quota_cells(region)}
        return await _new_page(page, form, problem_errors(problem, known), status=422)
    return page.redirect(f"/admin?done=create&round={created['round_id']}")


# --- simulating changed weights ----------------------------------------------------------------------------


def _simulate_form(round_: dict[str, Any]) -> dict[str, str]:
    form = {f"weights.{code}": str(w) for code, w in (round_.get("priority_weights") or {}).items()}
    for district, cells in (round_.get("quotas") or {}).items():
        form |= {f"quotas.{district}.{direction}": str(count) for direction, count in cells.items()}
    return form


def _sim_cells(round_: dict[str, Any], region: dict[str, Any] | None) -> list[tuple[str, str]]:
    cells = _quota_cells(region) if region else []
    for district, row in (round_.get("quotas") or {}).items():
        cells += [(district, direction) for direction in row if (district, direction) not in cells]
    return cells


async def _simulate_page(
    page: Page,
    round_id: str,
    form: dict[str, str] | None = None,
    result: dict[str, Any] | None = None,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> Response:
    round_ = await staff_api.round_of(page.api, round_id)
    region = next((r for r in await staff_api.regions(page.api) if r.get("code") == round_["region_code"]), None)
    districts = {d["code"]: d.get("name") for d in (region or {}).get("districts", [])}
    return page.render(
        "admin/round_simulate.html",
        status_code=status,
        errors=errors,
        round=round_,
        weights=sorted(round_.get("priority_weights") or {}),
        cells=_sim_cells(round_, region),
        districts=districts,
        form=form if form is not None else _simulate_form(round_),
        result=result,
    )


@router.get("/rounds/{round_id}/simulate")
async def simulate_form(page: PageDep, round_id: str) -> Response:
    page.require(ADMINISTRATOR)
    return await _simulate_page(page, round_id)


@router.post("/rounds/{round_id}/simulate", dependencies=[Csrf])
async def simulate(page: PageDep, round_id: str, request: Request) -> Response:
    """The weights and quotas as the form holds them, sent to allocation; its answer is the difference shown."""
    page.require(ADMINISTRATOR)
    form = await _form(request)
    errors = FieldErrors()
    weights: dict[str, int] = {}
    quotas: dict[str, dict[str, int]] = {}
    for name in form:
        parts = name.split(".")
        if parts[0] == "weights" and len(parts) == 2:
            value = _count(form, name, errors)
            if value is None and not errors.of(name):
                errors.add(name, "missing")
            elif value is not None:
                weights[parts[1]] = value
        elif parts[0] == "quotas" and len(parts) == 3:
            count = _count(form, name, errors)
            quotas.setdefault(parts[1], {})[parts[2]] = count or 0
    if errors:
        return await _simulate_page(page, round_id, form, errors=errors, status=422)
    try:
        result = await staff_api.simulate_round(page.api, round_id, {"weights": weights, "quotas": quotas})
    except ApiProblem as problem:
        if problem.status == 409:
            found = FieldErrors(general=["round_not_allocated"])
        else:
            found = problem_errors(problem, set(form) | {"weights", "quotas"})
        return await _simulate_page(page, round_id, form, errors=found, status=problem.status)
    return await _simulate_page(page, round_id, form, result=result)
