"""Provider staff's pages (phase 2 builds on this: organisation, programmes, enrolments, marking a month)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from portal.entrypoints.pages import PageDep

router = APIRouter(prefix="/provider")
PROVIDER = "provider_staff"


@router.get("")
async def home(page: PageDep) -> Response:
    session = page.require(PROVIDER)
    return page.render("provider/home.html", provider_id=session.scope.get("provider"))
