"""Provider staff's set-up pages: the coaches and facilities with their attestations, and publishing a programme.

Everything is catalog's: the lists (``GET /v1/providers/{id}/staff``, ``/facilities``), the new coach, facility and
attestation, and the programme (which catalog publishes only for a verified provider whose coaches and facility hold
valid attestations: its refusals come back next to the fields they name).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from portal.adapters import staff_api
from portal.adapters.api_client import ApiProblem, FieldErrors
from portal.entrypoints.pages import Csrf, Page, PageDep

router = APIRouter()
PROVIDER = "provider_staff"
STAFF_ROLES = ("coach", "teacher", "assistant")
KINDS = {"staff": ("criminal_record", "qualification"), "facility": ("sanitary", "fire")}
DIRECTIONS = ("sports", "creativity", "intellectual")
LANGUAGES = ("kk", "ru", "en")
WEEKDAYS = tuple(range(1, 8))
STAFF_FIELDS = ("full_name", "iin", "role")
FACILITY_FIELDS = ("name", "address", "capacity")
ATTESTATION_FIELDS = ("subject_id", "kind", "number", "valid_until")
PROGRAMME_FIELDS = (
    "direction",
    "age_min",
    "age_max",
    "language",
    "schedule",
    "sessions_per_month",
    "price_per_month_tiyn",
    "capacity",
    "district_code",
    "address",
    "lat",
    "lon",
    "coach_ids",
    "facility_id",
)


def _provider_of(page: Page) -> str:
    provider_id = page.require(PROVIDER).scope.get("provider")
    if not provider_id:
        raise ApiProblem("portal", 404, {"errors": [{"field": "provider", "type": "not_found"}]})
    return str(provider_id)


async def _form(request: Request) -> dict[str, str]:
    return {name: str(value).strip() for name, value in (await request.form()).items()}


# --- coaches, facilities, attestations ----------------------------------------------------------------------


async def _team_page(
    page: Page,
    provider_id: str,
    errors: FieldErrors | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    return page.render(
        "provider/team.html",
        status_code=status,
        errors=errors,
        form=form or {},
        notice=notice,
        staff=await staff_api.staff_of(page.api, provider_id),
        facilities=await staff_api.facilities_of(page.api, provider_id),
        expiring=await staff_api.expiring_attestations(page.api, provider_id),
        roles=STAFF_ROLES,
        kinds=KINDS,
    )


@router.get("/team")
async def team(page: PageDep, saved: str = "") -> Response:
    provider_id = _provider_of(page)
    notice = f"provider.team.saved_{saved}" if saved in ("staff", "facility", "attestation") else None
    return await _team_page(page, provider_id, notice=notice)


def _missing(form: dict[str, str], names: tuple[str, ...]) -> FieldErrors:
    errors = FieldErrors()
    for name in names:
        if not form.get(name):
            errors.add(name, "missing")
    return errors


def _integer(form: dict[str, str], name: str, errors: FieldErrors) -> int | None:
    try:
        return int(form.get(name, ""))
    except ValueError:
        if form.get(name):
            errors.add(name, "invalid")
        return None


@router.post("/team/staff", dependencies=[Csrf])
async def add_staff(page: PageDep, request: Request) -> Response:
    provider_id = _provider_of(page)
    form = await _form(request)
    errors = _missing(form, STAFF_FIELDS)
    if not errors:
        body = {"full_name": form["full_name"], "iin": form["iin"], "role": form["role"]}
        try:
            await staff_api.add_staff(page.api, provider_id, body)
        except ApiProblem as problem:
            errors = problem.field_errors(*STAFF_FIELDS)
        else:
            return page.redirect("/provider/team?saved=staff")
    return await _team_page(page, provider_id, errors, form, status=422)


@router.post("/team/facilities", dependencies=[Csrf])
async def add_facility(page: PageDep, request: Request) -> Response:
    provider_id = _provider_of(page)
    form = await _form(request)
    errors = _missing(form, FACILITY_FIELDS)
    capacity = _integer(form, "capacity", errors)
    if not errors:
        body = {"name": form["name"], "address": form["address"], "capacity": capacity}
        try:
            await staff_api.add_facility(page.api, provider_id, body)
        except ApiProblem as problem:
            errors = problem.field_errors(*FACILITY_FIELDS)
        else:
            return page.redirect("/provider/team?saved=facility")
    return await _team_page(page, provider_id, errors, form, status=422)


@router.post("/team/attestations", dependencies=[Csrf])
async def add_attestation(page: PageDep, request: Request) -> Response:
    """``subject_id`` is ``staff:<id>`` or ``facility:<id>`` (one list of both); the kind must suit the subject,
    which catalog checks."""
    provider_id = _provider_of(page)
    form = await _form(request)
    errors = _missing(form, ATTESTATION_FIELDS)
    subject_type, _, subject_id = form.get("subject_id", "").partition(":")
    if not errors and subject_type not in KINDS:
        errors.add("subject_id", "invalid")
    if not errors:
        body = {
            "subject_type": subject_type,
            "subject_id": subject_id,
            "kind": form["kind"],
            "number": form["number"],
            "valid_until": form["valid_until"],
        }
        try:
            await staff_api.add_attestation(page.api, provider_id, body)
        except ApiProblem as problem:
            errors = problem.field_errors("subject_id", "subject_type", "kind", "number", "valid_until")
        else:
            return page.redirect("/provider/team?saved=attestation")
    return await _team_page(page, provider_id, errors, form, status=422)


# --- a new programme ----------------------------------------------------------------------------------------


async def _programme_page(
    page: Page,
    provider_id: str,
    form: dict[str, Any],
    errors: FieldErrors | None = None,
    status: int = 200,
) -> Response:
    organisation = await staff_api.provider(page.api, provider_id)
    region = next((r for r in await staff_api.regions(page.api) if r.get("code") == organisation["region_code"]), {})
    return page.render(
        "provider/programme_new.html",
        status_code=status,
        errors=errors,
        form=form,
        organisation=organisation,
        districts=region.get("districts", []),
        staff=await staff_api.staff_of(page.api, provider_id),
        facilities=await staff_api.facilities_of(page.api, provider_id),
        directions=DIRECTIONS,
        languages=LANGUAGES,
        weekdays=WEEKDAYS,
    )


@router.get("/programmes/new")
async def new_programme(page: PageDep) -> Response:
    provider_id = _provider_of(page)
    organisation = await staff_api.provider(page.api, provider_id)
    defaults = {
        "district_code": organisation["district_code"],
        "address": organisation["address"],
        "start": "16:00",
        "end": "17:00",
    }
    return await _programme_page(page, provider_id, defaults)


@router.post("/programmes/new", dependencies=[Csrf])
async def publish_programme(page: PageDep, request: Request) -> Response:
    provider_id = _provider_of(page)
    submitted = await request.form()
    form: dict[str, Any] = {name: str(value).strip() for name, value in submitted.items()}
    form["weekday"] = [str(v) for v in submitted.getlist("weekday")]
    form["coach_ids"] = [str(v) for v in submitted.getlist("coach_ids")]
    required = ("title_kk", "title_ru", "title_en", "direction", "language", "district_code", "address", "start", "end")
    errors = _missing(form, required)
    numbers = {
        name: _integer(form, name, errors) for name in ("age_min", "age_max", "sessions_per_month", "capacity", "price")
    }
    for name, value in numbers.items():
        if value is None and "missing" not in errors.of(name) and "invalid" not in errors.of(name):
            errors.add(name, "missing")
    if not form["weekday"]:
        errors.add("schedule", "missing")
    coordinates: dict[str, float] = {}
    for name in ("lat", "lon"):
        try:
            coordinates[name] = float(form.get(name, "").replace(",", "."))
        except ValueError:
            errors.add(name, "missing" if not form.get(name) else "invalid")
    if not errors:
        body = {
            "direction": form["direction"],
            "title": {code: form[f"title_{code}"] for code in LANGUAGES},
            "description": {code: form.get(f"description_{code}") or form[f"title_{code}"] for code in LANGUAGES},
            "age_min": numbers["age_min"],
            "age_max": numbers["age_max"],
            "language": form["language"],
            "schedule": [{"weekday": int(d), "start": form["start"], "end": form["end"]} for d in form["weekday"]],
            "sessions_per_month": numbers["sessions_per_month"],
            "price_per_month_tiyn": (numbers["price"] or 0) * 100,  # the form asks for whole tenge
            "capacity": numbers["capacity"],
            "district_code": form["district_code"],
            "address": form["address"],
            "lat": coordinates["lat"],
            "lon": coordinates["lon"],
            "coach_ids": form["coach_ids"],
            **({"facility_id": form["facility_id"]} if form.get("facility_id") else {}),
        }
        try:
            published = await staff_api.publish_programme(page.api, provider_id, body)
        except ApiProblem as problem:
            errors = problem.field_errors(*PROGRAMME_FIELDS)
            if errors.of("price_per_month_tiyn"):
                errors.by_field["price"] = errors.by_field.pop("price_per_month_tiyn")
        else:
            return page.render("provider/programme_published.html", programme=published)
    return await _programme_page(page, provider_id, form, errors, status=422)
