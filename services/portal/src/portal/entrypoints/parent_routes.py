"""Parents' pages: home (children, applications with status, waitlist position and why), register a child, apply.

Everything shown comes from the APIs: registry (children), allocation (regions, rounds, applications and their
explanation). Form field names are the APIs' field names, so a problem+json's errors land next to the right field.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from portal.adapters.api_client import ApiClient, ApiProblem, FieldErrors
from portal.entrypoints import (
    parent_attendance,
    parent_catalog,
    parent_categories,
    parent_family,
    parent_inbox,
    parent_talk,
)
from portal.entrypoints.pages import Csrf, Page, PageDep

router = APIRouter(prefix="/parent")
Text = Annotated[str, Form()]
PARENT = "parent"
EXPLAINED = frozenset({"awarded", "waitlisted", "not_awarded", "declined", "expired", "enrolled", "released"})


async def _regions(api: ApiClient) -> list[dict[str, Any]]:
    regions = await api.get("allocation", "/v1/regions")
    items = regions["items"] if isinstance(regions, dict) else regions
    return [r.get("config", r) for r in items]


async def _open_rounds(api: ApiClient) -> list[dict[str, Any]]:
    rounds = await api.get("allocation", "/v1/rounds")
    return [r for r in rounds["items"] if r["state"] == "open"]


def _district_names(page: Page, regions: list[dict[str, Any]]) -> dict[str, str]:
    return {d["code"]: page.t.name(d.get("name")) for r in regions for d in r.get("districts", [])}


async def _known_to_allocation(api: ApiClient, child_id: str) -> bool:
    """Allocation learns a child from the registry's event a moment after registration; until then it answers 404."""
    try:
        await api.get("allocation", f"/v1/children/{child_id}")
    except ApiProblem as problem:
        if problem.status == 404:
            return False
        raise
    return True


async def _children_panel(page: Page, applications: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The children and what each may do: apply (allocation knows the child, a round of its region is open and the
    child has no application in it) or wait (allocation has not heard of the child yet: the panel polls)."""
    children = (await page.api.get("registry", "/v1/children"))["items"]
    if applications is None:
        applications = (await page.api.get("allocation", "/v1/applications"))["items"]
    rounds = {r["round_id"]: r for r in (await page.api.get("allocation", "/v1/rounds"))["items"]}
    in_open = {a["child_id"] for a in applications if rounds.get(a["round_id"], {}).get("state") == "open"}
    open_regions = {r["region_code"] for r in rounds.values() if r["state"] == "open"}
    pending = {c["id"] for c in children if not await _known_to_allocation(page.api, c["id"])}
    can_apply = {c["id"] for c in children if c["id"] not in in_open | pending and c["region_code"] in open_regions}
    regions = await _regions(page.api)
    return {
        "children": children,
        "pending": pending,
        "can_apply": can_apply,
        "rounds": rounds,
        "districts": _district_names(page, regions),
    }


@router.get("/children-panel")
async def children_panel(page: PageDep) -> Response:
    """The children section alone (htmx polls it while a new child is not yet known to allocation)."""
    page.require(PARENT)
    return page.render("parent/_children.html", **await _children_panel(page))


@router.get("")
async def home(page: PageDep) -> Response:
    page.require(PARENT)
    applications = (await page.api.get("allocation", "/v1/applications"))["items"]
    panel = await _children_panel(page, applications)
    explanations: dict[str, dict[str, Any]] = {}
    for application in applications:
        if application["status"] in EXPLAINED or application.get("rank") is not None:
            explanations[application["application_id"]] = await page.api.get(
                "allocation", f"/v1/applications/{application['application_id']}/explanation"
            )
    return page.render(
        "parent/home.html",
        applications=applications,
        explanations=explanations,
        children_by_id={c["id"]: c for c in panel["children"]},
        **panel,
    )


@router.get("/children/new")
async def new_child_form(page: PageDep) -> Response:
    page.require(PARENT)
    return page.render("parent/child_new.html", regions=await _regions(page.api), form={})


@router.post("/children", dependencies=[Csrf])
async def register_child(page: PageDep, iin: Text = "", region_code: Text = "", district_code: Text = "") -> Response:
    page.require(PARENT)
    form = {"iin": iin.strip(), "region_code": region_code, "district_code": district_code}
    missing = FieldErrors()
    for name, value in form.items():
        if not value:
            missing.add(name, "missing")
    errors = missing
    if not missing:
        try:
            await page.api.post("registry", "/v1/children", json=form)
            return page.redirect("/parent?registered=1")
        except ApiProblem as problem:
            errors = problem.field_errors(*form)
    regions = await _regions(page.api)
    return page.render("parent/child_new.html", status_code=422, errors=errors, regions=regions, form=form)


@router.get("/apply")
async def apply_form(page: PageDep, child_id: str = "") -> Response:
    page.require(PARENT)
    return await _apply_page(page, child_id, {}, FieldErrors())


async def _apply_page(
    page: Page, child_id: str, form: dict[str, str], errors: FieldErrors, status: int = 200
) -> Response:
    child = await page.api.get("registry", f"/v1/children/{child_id}") if child_id else None
    rounds = await _open_rounds(page.api)
    regions = {r["code"]: r for r in await _regions(page.api)}
    if child is not None:
        rounds = [r for r in rounds if r["region_code"] == child["region_code"]]
    directions = sorted({d for r in rounds for d in regions.get(r["region_code"], {}).get("directions", [])})
    return page.render(
        "parent/apply.html",
        status_code=status,
        errors=errors,
        child=child,
        rounds=rounds,
        directions=directions,
        form=form,
        districts=_district_names(page, list(regions.values())),
    )


@router.post("/apply", dependencies=[Csrf])
async def apply(page: PageDep, child_id: Text = "", round_id: Text = "", direction: Text = "") -> Response:
    page.require(PARENT)
    form = {"child_id": child_id, "round_id": round_id, "direction": direction}
    errors = FieldErrors()
    for name in ("round_id", "direction"):
        if not form[name]:
            errors.add(name, "missing")
    if not errors:
        try:
            await page.api.post(
                "allocation", f"/v1/rounds/{round_id}/applications", json={"child_id": child_id, "direction": direction}
            )
            return page.redirect("/parent?applied=1")
        except ApiProblem as problem:
            errors = problem.field_errors("round_id", "direction", "child_id")
    return await _apply_page(page, child_id, form, errors, status=422)


# the other parent pages live in modules of their own (catalogue and enrolments, categories, attendance, budget and
# data, inbox, conversations and reviews)
for _module in (parent_catalog, parent_categories, parent_attendance, parent_family, parent_inbox, parent_talk):
    router.include_router(_module.router)
