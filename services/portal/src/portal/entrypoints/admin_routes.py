"""Operators' and administrators' pages (phase 2 builds on this: verification, regions and rounds, payments)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from portal.entrypoints.pages import STAFF_ROLES, PageDep

router = APIRouter(prefix="/admin")


@router.get("")
async def home(page: PageDep) -> Response:
    page.require(*STAFF_ROLES)
    rounds = (await page.api.get("allocation", "/v1/rounds"))["items"]
    return page.render("admin/home.html", rounds=rounds)
