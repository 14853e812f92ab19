"""Provider staff's pages: the organisation (or registering it), programmes, enrolments and attestation warnings;
marking a group's month and submitting it; accruals and payments by month.

Everything comes from the APIs: catalog (organisation, enrolments, programmes, attestations), attendance (the
group's month: sessions, marks, submission), payments (accruals, statement, payments). The staff member's
organisation is the token's ``scope.provider``; an account without one may register an organisation, which an
operator verifies and an administrator then links to a staff account (registry's ``POST /v1/staff``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from portal.adapters import staff_api
from portal.adapters.api_client import ApiProblem, FieldErrors, ServiceUnavailable
from portal.entrypoints import provider_answers, provider_team
from portal.entrypoints.pages import Csrf, Page, PageDep
from portal.entrypoints.staff_format import PERIOD, shift_period

router = APIRouter(prefix="/provider")
Text = Annotated[str, Form()]
PROVIDER = "provider_staff"
MARKS = ("attended", "absent", "cancelled_by_provider")
REGISTRATION_FIELDS = (
    "name",
    "bin",
    "region_code",
    "district_code",
    "address",
    "phone",
    "email",
    "bank_name",
    "bik",
    "iban",
)


def _provider_id(page: Page) -> str | None:
    session = page.require(PROVIDER)
    return session.scope.get("provider") or None


@router.get("")
async def home(page: PageDep) -> Response:
    provider_id = _provider_id(page)
    if provider_id is None:
        return await _registration_page(page, {}, FieldErrors())
    organisation = await staff_api.provider(page.api, provider_id)
    enrolments = await staff_api.enrolments(page.api, provider_id)
    # every programme of the provider, whatever its status (catalog's own listing, not the public search)
    programmes: dict[str, dict[str, Any] | None] = {
        str(p["id"]): p for p in await staff_api.programmes_of(page.api, provider_id)
    }
    expiring = await staff_api.expiring_attestations(page.api, provider_id)
    period = await staff_api.current_period(page.api, organisation["region_code"])
    names, _ = await _child_names(page, [str(e["child_id"]) for e in enrolments])
    return page.render(
        "provider/home.html",
        names=names,
        organisation=organisation,
        enrolments=enrolments,
        programmes=programmes,
        expiring=expiring,
        period=period,
        last_period=shift_period(period, -1),
    )


# --- registering the organisation -------------------------------------------------------------------------


async def _registration_page(page: Page, form: dict[str, str], errors: FieldErrors, status: int = 200) -> Response:
    regions = await staff_api.regions(page.api)
    return page.render("provider/register.html", status_code=status, errors=errors, form=form, regions=regions)


@router.post("/register", dependencies=[Csrf])
async def register(page: PageDep, request: Request) -> Response:
    page.require(PROVIDER)
    submitted = await request.form()
    form = {name: str(submitted.get(name, "")).strip() for name in REGISTRATION_FIELDS}
    errors = FieldErrors()
    for name in ("name", "bin", "region_code", "district_code", "address", "phone", "bank_name", "bik", "iban"):
        if not form[name]:
            errors.add(name, "missing")
    if not errors:
        body = {
            "name": form["name"],
            "bin": form["bin"],
            "region_code": form["region_code"],
            "district_code": form["district_code"],
            "address": form["address"],
            "contacts": {"phone": form["phone"], **({"email": form["email"]} if form["email"] else {})},
            "bank": {"bank_name": form["bank_name"], "bik": form["bik"], "iban": form["iban"].replace(" ", "")},
        }
        try:
            registered = await staff_api.register_provider(page.api, body)
        except ApiProblem as problem:
            errors = problem.field_errors(*REGISTRATION_FIELDS)
        else:
            return page.render("provider/registered.html", organisation=registered)
    return await _registration_page(page, form, errors, status=422)


# --- a group's month -------------------------------------------------------------------------------------


def _cell_name(enrolment_id: str, day: str, starts_at: str) -> str:
    return f"mark:{enrolment_id}:{day}:{starts_at[:5]}"


def _grid(sheet: dict[str, Any]) -> list[dict[str, Any]]:
    """Per child: each session of the month and its mark (or None: still to mark, or "" when not enrolled)."""
    rows = []
    for child in sheet["enrolments"]:
        marks = {(m["date"], m["starts_at"][:5]): m for m in child["marks"]}
        unmarked = {(s["date"], s["starts_at"][:5]) for s in child["unmarked"]}
        cells = []
        for session in sheet["sessions"]:
            key = (session["date"], session["starts_at"][:5])
            mark = marks.get(key)
            cells.append(
                {
                    "name": _cell_name(child["enrolment_id"], *key),
                    "status": mark["status"] if mark else None,
                    "open": mark is not None or key in unmarked,
                    "session": session,
                }
            )
        rows.append({"child": child, "cells": cells, "unmarked": len(child["unmarked"])})
    return rows


async def _sheet_page(
    page: Page,
    programme_id: str,
    period: str,
    errors: FieldErrors | None = None,
    result: dict[str, Any] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    sheet = await staff_api.sheet(page.api, programme_id, period)
    programme = await staff_api.programme(page.api, programme_id)
    drafts = any(c["status"] == "draft" for c in sheet["enrolments"])
    names, names_missing = await _child_names(page, [str(c["child_id"]) for c in sheet["enrolments"]])
    return page.render(
        "provider/attendance.html",
        status_code=status,
        errors=errors,
        sheet=sheet,
        grid=_grid(sheet),
        programme=programme,
        programme_id=programme_id,
        period=period,
        previous=shift_period(period, -1),
        following=shift_period(period, 1),
        marks=MARKS,
        drafts=drafts,
        result=result,
        notice=notice,
        names=names,
        names_missing=names_missing,
    )


async def _child_names(page: Page, child_ids: list[str]) -> tuple[dict[str, str | None], bool]:
    """The children's display names from the registry (the coach's own token), and whether they could not be read:
    the month is still marked by short id when the registry does not answer."""
    provider_id = _provider_id(page)
    if not provider_id or not child_ids:
        return {}, False
    try:
        return await staff_api.child_names(page.api, provider_id, child_ids), False
    except (ApiProblem, ServiceUnavailable):
        return {}, True


def _checked_period(period: str) -> str:
    if not PERIOD.match(period):
        raise ApiProblem("portal", 422, {"errors": [{"field": "period", "type": "invalid"}]})
    return period


@router.get("/programmes/{programme_id}/attendance/{period}")
async def attendance(page: PageDep, programme_id: str, period: str) -> Response:
    _provider_id(page)
    return await _sheet_page(page, programme_id, _checked_period(period))


@router.post("/programmes/{programme_id}/attendance/{period}/all", dependencies=[Csrf])
async def mark_all(page: PageDep, programme_id: str, period: str, status: Text = "attended") -> Response:
    """One click: every past scheduled session of every child of the group gets ``status`` (attended)."""
    _provider_id(page)
    _checked_period(period)
    try:
        await staff_api.mark(page.api, programme_id, period, {"all_scheduled": status})
    except ApiProblem as problem:
        return await _sheet_page(page, programme_id, period, problem.field_errors("all_scheduled"), status=422)
    return page.redirect(f"/provider/programmes/{programme_id}/attendance/{period}?saved=1")


@router.post("/programmes/{programme_id}/attendance/{period}/marks", dependencies=[Csrf])
async def save_marks(page: PageDep, request: Request, programme_id: str, period: str) -> Response:
    """The grid's cells that have a status, sent as single marks (the API keeps the rest as they are)."""
    _provider_id(page)
    _checked_period(period)
    form = await request.form()
    marks = []
    for name, value in form.multi_items():
        if not name.startswith("mark:") or value not in MARKS:
            continue
        _, enrolment_id, day, starts_at = name.split(":", 3)
        marks.append({"enrolment_id": enrolment_id, "date": day, "starts_at": starts_at, "status": value})
    if marks:
        try:
            await staff_api.mark(page.api, programme_id, period, {"marks": marks})
        except ApiProblem as problem:
            return await _sheet_page(page, programme_id, period, problem.field_errors(), status=422)
    return page.redirect(f"/provider/programmes/{programme_id}/attendance/{period}?saved=1")


@router.post("/programmes/{programme_id}/attendance/{period}/submit", dependencies=[Csrf])
async def submit(page: PageDep, programme_id: str, period: str) -> Response:
    _provider_id(page)
    _checked_period(period)
    try:
        result = await staff_api.submit(page.api, programme_id, period)
    except ApiProblem as problem:
        return await _sheet_page(page, programme_id, period, problem.field_errors(), status=422)
    return await _sheet_page(page, programme_id, period, result=result)


# --- money -------------------------------------------------------------------------------------------------


@router.get("/money")
async def money(page: PageDep, period: str = "") -> Response:
    provider_id = _provider_id(page)
    if provider_id is None:
        return page.redirect("/provider")
    chosen = period if PERIOD.match(period) else None
    accruals = await staff_api.accruals(page.api, provider_id, chosen)
    statement = await staff_api.statement(page.api, provider_id)
    payments = await staff_api.payments_of(page.api, provider_id)
    return page.render(
        "provider/money.html",
        accruals=accruals,
        statement=statement,
        payments=payments,
        period=chosen,
        periods=sorted({m["period"] for m in statement.get("months", [])}, reverse=True),
    )


# the set-up pages (coaches, facilities, attestations, a new programme) live in a module of their own
router.include_router(provider_team.router)
# declining enrolments, changing and closing programmes, answering messages and reviews
router.include_router(provider_answers.router)
