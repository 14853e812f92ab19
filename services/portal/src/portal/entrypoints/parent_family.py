"""Parents' family pages: the budget (payments ``GET /v1/families/me/budget``: per child and month what the voucher
covers and the co-payment owed, and the school year's projection for all the children) and downloading all their
data (registry ``GET /v1/me/export``, as a JSON file)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from portal.adapters.api_client import ApiProblem
from portal.entrypoints.pages import PageDep
from portal.entrypoints.parent_catalog import title_of

router = APIRouter()
PARENT = "parent"


@router.get("/budget")
async def budget(page: PageDep) -> Response:
    page.require(PARENT)
    family = await page.api.get("payments", "/v1/families/me/budget")
    children = {c["id"]: c.get("iin_masked", "") for c in (await page.api.get("registry", "/v1/children"))["items"]}
    titles: dict[str, str] = {}
    for child in family["children"]:
        for line in child["enrolments"]:
            pid = line["programme_id"]
            if pid in titles:
                continue
            try:
                titles[pid] = title_of(page, await page.api.get("catalog", f"/v1/programmes/{pid}"))
            except ApiProblem as problem:
                if problem.status != 404:
                    raise
                titles[pid] = ""
    return page.render("parent/budget.html", family=family, children=children, titles=titles)


@router.get("/data")
async def my_data(page: PageDep) -> Response:
    """Everything the registry holds on the signed-in parent and their children, as a download."""
    page.require(PARENT)
    export: Any = await page.api.get("registry", "/v1/me/export")
    return Response(
        json.dumps(export, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="qosym-my-data.json"'},
    )
