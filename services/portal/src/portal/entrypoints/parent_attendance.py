"""Parents' attendance: the months of their children's timesheets, one month's sessions, confirm or dispute it.

attendance's API: ``GET /v1/timesheets`` (a guardian sees their children's), ``GET /v1/timesheets/{id}`` (sessions,
decisions, dispute), ``POST /v1/timesheets/{id}/confirm``, ``POST /v1/timesheets/{id}/dispute``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from portal.adapters.api_client import ApiProblem, FieldErrors
from portal.entrypoints.pages import Csrf, Page, PageDep
from portal.entrypoints.parent_catalog import next_to, title_of

router = APIRouter()
Text = Annotated[str, Form()]
PARENT = "parent"
CLAIMS = ("attended", "absent", "not_held")


async def _names(page: Page, months: list[dict[str, Any]]) -> tuple[dict[str, str], dict[str, str]]:
    children = {c["id"]: c.get("iin_masked", "") for c in (await page.api.get("registry", "/v1/children"))["items"]}
    titles: dict[str, str] = {}
    for month in months:
        pid = month["programme_id"]
        if pid not in titles:
            try:
                titles[pid] = title_of(page, await page.api.get("catalog", f"/v1/programmes/{pid}"))
            except ApiProblem as problem:
                if problem.status != 404:
                    raise
                titles[pid] = ""
    return children, titles


@router.get("/attendance")
async def months(page: PageDep, period: str = "") -> Response:
    page.require(PARENT)
    errors = FieldErrors()
    items: list[dict[str, Any]] = []
    try:
        items = (await page.api.get("attendance", "/v1/timesheets", params={"period": period} if period else None))[
            "items"
        ]
    except ApiProblem as problem:
        if problem.status != 422:
            raise
        errors = problem.field_errors("period")
    children, titles = await _names(page, items)
    return page.render(
        "parent/attendance.html",
        status_code=422 if errors else 200,
        errors=errors,
        months=items,
        children=children,
        titles=titles,
        form={"period": period},
    )


async def _month_page(
    page: Page, timesheet_id: str, errors: FieldErrors, form: dict[str, str], status: int = 200
) -> Response:
    month = await page.api.get("attendance", f"/v1/timesheets/{timesheet_id}")
    children, titles = await _names(page, [month])
    return page.render(
        "parent/attendance_month.html",
        status_code=status,
        errors=errors,
        month=month,
        child=children.get(month["child_id"], ""),
        title=titles.get(month["programme_id"], ""),
        claims=CLAIMS,
        form=form,
    )


@router.get("/attendance/{timesheet_id}")
async def month(page: PageDep, timesheet_id: str) -> Response:
    page.require(PARENT)
    return await _month_page(page, timesheet_id, FieldErrors(), {})


@router.post("/attendance/{timesheet_id}/confirm", dependencies=[Csrf])
async def confirm(page: PageDep, timesheet_id: str) -> Response:
    page.require(PARENT)
    try:
        await page.api.post("attendance", f"/v1/timesheets/{timesheet_id}/confirm")
    except ApiProblem as problem:
        if problem.status >= 500:
            raise
        return await _month_page(page, timesheet_id, problem.field_errors(), {}, status=problem.status)
    return page.redirect(f"/parent/attendance/{timesheet_id}?confirmed=1")


@router.post("/attendance/{timesheet_id}/dispute", dependencies=[Csrf])
async def dispute(
    page: PageDep, timesheet_id: str, session: Text = "", claim: Text = "", comment: Text = ""
) -> Response:
    """One disputed session (``session`` is ``date|starts_at`` of a session the month lists) with what happened."""
    page.require(PARENT)
    form = {"session": session, "claim": claim, "comment": comment}
    errors = FieldErrors()
    for name, value in form.items():
        if not value.strip():
            errors.add(name, "missing")
    if not errors:
        day, _, starts_at = session.partition("|")
        body = {
            "comment": comment.strip(),
            "sessions": [{"date": day, "starts_at": starts_at or None, "claim": claim, "comment": comment.strip()}],
        }
        try:
            await page.api.post("attendance", f"/v1/timesheets/{timesheet_id}/dispute", json=body)
            return page.redirect(f"/parent/attendance/{timesheet_id}?disputed=1")
        except ApiProblem as problem:
            if problem.status >= 500:
                raise
            # the API names sessions.0.date / .claim / .comment: the last part is the form's field
            errors = problem.field_errors("claim", "comment", "date", "starts_at")
            for name in ("date", "starts_at"):
                for code in errors.by_field.pop(name, []):
                    errors.add("session", code)
            errors = next_to(errors, "comment")
    return await _month_page(page, timesheet_id, errors, form, status=422)
