"""Parents' catalogue: search programmes with filters and a map, a programme's page, enrol a child, see and leave
the children's enrolments.

Everything comes from catalog's public API (``GET /v1/programmes`` with the API's own filter names, the
programme page, ``/v1/consultation-points``, ``/v1/programmes/{id}/reviews``) and the enrolment API
(``POST /v1/enrolments``, ``GET /v1/children/{id}/enrolments``, ``POST /v1/enrolments/{id}/end``, and a change of
club: ``POST /v1/enrolments/{id}/change-club``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from portal.adapters.api_client import ApiProblem, FieldErrors
from portal.entrypoints.pages import Csrf, Page, PageDep

router = APIRouter()
Text = Annotated[str, Form()]
PARENT = "parent"
FILTERS = ("district_code", "direction", "age", "language", "free_seats", "max_price_tiyn", "sort")
DIRECTIONS = ("sports", "creativity", "intellectual")
LANGUAGES = ("kk", "ru", "en")
SORTS = ("title", "price", "-price", "free_seats", "rating")


def next_to(errors: FieldErrors, name: str) -> FieldErrors:
    """A refusal naming no field of a one-field form (a 409: no voucher, no free seat) is shown next to that field."""
    if errors.general and not errors.by_field:
        for code in errors.general:
            errors.add(name, code)
        errors.general.clear()
    return errors


def title_of(page: Page, programme: dict[str, Any] | None) -> str:
    """The programme's title in the page's language (else any language it has)."""
    if not programme:
        return ""
    titles: dict[str, str] = programme.get("title") or {}
    return titles.get(page.language) or next(iter(titles.values()), "")


async def _children(page: Page) -> list[dict[str, Any]]:
    return list((await page.api.get("registry", "/v1/children"))["items"])


async def _programme_or_none(page: Page, programme_id: str) -> dict[str, Any] | None:
    """A programme as the public page shows it; a suspended or closed one answers 404 there."""
    try:
        found: dict[str, Any] = await page.api.get("catalog", f"/v1/programmes/{programme_id}")
    except ApiProblem as problem:
        if problem.status == 404:
            return None
        raise
    return found


@router.get("/catalogue")
async def catalogue(page: PageDep) -> Response:
    page.require(PARENT)
    query = page.request.query_params
    children = await _children(page)
    regions = sorted({c["region_code"] for c in children}) or ["astana"]
    region_code = query.get("region_code") or regions[0]
    form: dict[str, str] = {"region_code": region_code} | {k: query.get(k, "") for k in FILTERS}
    params: dict[str, Any] = {"region_code": region_code, "limit": 100}
    for name in FILTERS:
        if form[name]:
            params[name] = "true" if name == "free_seats" else form[name]
    if form["max_price_tiyn"]:  # the form asks in tenge, the API in tiyn
        try:
            params["max_price_tiyn"] = round(float(form["max_price_tiyn"]) * 100)
        except ValueError:
            params["max_price_tiyn"] = form["max_price_tiyn"]
    errors = FieldErrors()
    programmes: list[dict[str, Any]] = []
    try:
        programmes = (await page.api.get("catalog", "/v1/programmes", params=params))["items"]
    except ApiProblem as problem:
        if problem.status != 422:
            raise
        errors = problem.field_errors("region_code", *FILTERS)
    points = (await page.api.get("catalog", "/v1/consultation-points", params={"region_code": region_code}))["items"]
    markers = [
        {
            "lat": p["lat"],
            "lon": p["lon"],
            "title": title_of(page, p),
            "href": f"/parent/programmes/{p['id']}",
        }
        for p in programmes
    ]
    return page.render(
        "parent/catalogue.html",
        status_code=422 if errors else 200,
        errors=errors,
        programmes=programmes,
        points=points,
        markers=markers,
        regions=regions,
        form=form,
        directions=DIRECTIONS,
        languages_taught=LANGUAGES,
        sorts=SORTS,
        title_of=lambda p: title_of(page, p),
    )


async def _programme_page(
    page: Page, programme_id: str, errors: FieldErrors, form: dict[str, str], status: int = 200
) -> Response:
    programme = await page.api.get("catalog", f"/v1/programmes/{programme_id}")
    reviews = (await page.api.get("catalog", f"/v1/programmes/{programme_id}/reviews"))["items"]
    children = [c for c in await _children(page) if c["region_code"] == programme["region_code"]]
    return page.render(
        "parent/programme.html",
        status_code=status,
        errors=errors,
        programme=programme,
        title=title_of(page, programme),
        description=(programme.get("description") or {}).get(page.language, ""),
        reviews=reviews,
        children=children,
        form=form,
    )


@router.get("/programmes/{programme_id}")
async def programme(page: PageDep, programme_id: str) -> Response:
    page.require(PARENT)
    return await _programme_page(page, programme_id, FieldErrors(), {})


@router.post("/programmes/{programme_id}/enrol", dependencies=[Csrf])
async def enrol(page: PageDep, programme_id: str, child_id: Text = "") -> Response:
    page.require(PARENT)
    errors = FieldErrors()
    if not child_id:
        errors.add("child_id", "missing")
    else:
        try:
            await page.api.post("catalog", "/v1/enrolments", json={"child_id": child_id, "programme_id": programme_id})
            return page.redirect("/parent/enrolments?requested=1")
        except ApiProblem as problem:
            if problem.status >= 500:
                raise
            errors = next_to(problem.field_errors("child_id"), "child_id")
    return await _programme_page(page, programme_id, errors, {"child_id": child_id}, status=422)


async def _enrolments(page: Page) -> dict[str, Any]:
    """Each child's enrolments with their programme's title; a confirmed one with the programmes it may change to
    (catalog's search: the same region and direction, since the voucher is for those; catalog checks the rest)."""
    children = await _children(page)
    rows: list[dict[str, Any]] = []
    programmes: dict[str, dict[str, Any] | None] = {}
    searches: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for child in children:
        items = (await page.api.get("catalog", f"/v1/children/{child['id']}/enrolments"))["items"]
        for item in items:
            if item["programme_id"] not in programmes:
                programmes[item["programme_id"]] = await _programme_or_none(page, item["programme_id"])
            current = programmes[item["programme_id"]]
            others: list[dict[str, Any]] = []
            if item["status"] == "confirmed" and current is not None:
                key = (current["region_code"], current["direction"])
                if key not in searches:
                    params = {"region_code": key[0], "direction": key[1], "free_seats": "true", "limit": 100}
                    searches[key] = (await page.api.get("catalog", "/v1/programmes", params=params))["items"]
                others = [
                    {"id": p["id"], "title": title_of(page, p), "provider_name": p.get("provider_name", "")}
                    for p in searches[key]
                    if p["id"] != item["programme_id"]
                ]
            rows.append(item | {"child": child, "programme_title": title_of(page, current), "change_to": others})
    return {"enrolments": rows, "waiting": any(r["status"] == "requested" for r in rows)}


@router.get("/enrolments")
async def enrolments(page: PageDep) -> Response:
    page.require(PARENT)
    return page.render("parent/enrolments.html", **await _enrolments(page), leave_for=None, change_for=None, form={})


@router.get("/enrolments-panel")
async def enrolments_panel(page: PageDep) -> Response:
    """The enrolments list alone (htmx polls it while a request waits for allocation's voucher)."""
    page.require(PARENT)
    return page.render("parent/_enrolments.html", **await _enrolments(page), leave_for=None, change_for=None, form={})


@router.post("/enrolments/{enrolment_id}/leave", dependencies=[Csrf])
async def leave(page: PageDep, enrolment_id: str, reason: Text = "") -> Response:
    page.require(PARENT)
    errors = FieldErrors()
    if not reason.strip():
        errors.add("reason", "missing")
    else:
        try:
            await page.api.post("catalog", f"/v1/enrolments/{enrolment_id}/end", json={"reason": reason.strip()})
            return page.redirect("/parent/enrolments?left=1")
        except ApiProblem as problem:
            if problem.status >= 500:
                raise
            errors = next_to(problem.field_errors("reason"), "reason")
    return page.render(
        "parent/enrolments.html",
        status_code=422,
        errors=errors,
        leave_for=enrolment_id,
        change_for=None,
        form={"reason": reason},
        **await _enrolments(page),
    )


@router.post("/enrolments/{enrolment_id}/change-club", dependencies=[Csrf])
async def change_club(page: PageDep, enrolment_id: str, programme_id: Text = "", reason: Text = "") -> Response:
    """Catalog's change of club: a seat in the other programme is requested and allocation moves the voucher; the
    old enrolment stays confirmed until it has (the list polls while the new one is ``requested``)."""
    page.require(PARENT)
    errors = FieldErrors()
    if not programme_id:
        errors.add("programme_id", "missing")
    else:
        body = {"programme_id": programme_id} | ({"reason": reason.strip()} if reason.strip() else {})
        try:
            await page.api.post("catalog", f"/v1/enrolments/{enrolment_id}/change-club", json=body)
            return page.redirect("/parent/enrolments?changing=1")
        except ApiProblem as problem:
            if problem.status >= 500:
                raise
            errors = next_to(problem.field_errors("programme_id", "reason"), "programme_id")
    return page.render(
        "parent/enrolments.html",
        status_code=422,
        errors=errors,
        leave_for=None,
        change_for=enrolment_id,
        form={"programme_id": programme_id, "reason": reason},
        **await _enrolments(page),
    )
