"""Parents talking to providers and operators, and rating a programme.

conversations' API: ``POST /v1/threads`` (an enrolment's thread with the provider, or a timesheet dispute's with
the consultation point; 201 new, 200 existing), ``GET /v1/threads``, ``GET /v1/threads/{id}/messages``,
``POST /v1/threads/{id}/messages``, ``POST /v1/threads/{id}/read``. catalog: ``POST /v1/reviews`` (once per
enrolment, after a confirmed month: the API decides and names ``enrolment_id`` when it is too early).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from portal.adapters.api_client import ApiProblem, FieldErrors
from portal.entrypoints.pages import Csrf, Page, PageDep
from portal.entrypoints.parent_catalog import next_to

router = APIRouter()
Text = Annotated[str, Form()]
PARENT = "parent"
OBJECT_TYPES = frozenset({"enrolment", "dispute"})
COUNTERPARTS = frozenset({"provider", "consultation_point"})


@router.post("/threads", dependencies=[Csrf])
async def start(
    page: PageDep, object_type: Text = "", object_id: Text = "", with_: Annotated[str, Form(alias="with")] = ""
) -> Response:
    page.require(PARENT)
    body = {"object_type": object_type, "object_id": object_id, "with": with_}
    thread = await page.api.post("conversations", "/v1/threads", json=body)
    return page.redirect(f"/parent/threads/{thread['thread_id']}")


@router.get("/threads")
async def threads(page: PageDep) -> Response:
    page.require(PARENT)
    items = (await page.api.get("conversations", "/v1/threads"))["items"]
    return page.render("parent/threads.html", threads=items)


async def _thread_page(
    page: Page, thread_id: str, errors: FieldErrors, form: dict[str, str], status: int = 200
) -> Response:
    thread = await page.api.get("conversations", f"/v1/threads/{thread_id}")
    messages: list[dict[str, Any]] = (await page.api.get("conversations", f"/v1/threads/{thread_id}/messages"))["items"]
    if messages:
        await page.api.post("conversations", f"/v1/threads/{thread_id}/read")
    return page.render(
        "parent/thread.html", status_code=status, errors=errors, thread=thread, messages=messages, form=form
    )


@router.get("/threads/{thread_id}")
async def thread(page: PageDep, thread_id: str) -> Response:
    page.require(PARENT)
    return await _thread_page(page, thread_id, FieldErrors(), {})


@router.post("/threads/{thread_id}/messages", dependencies=[Csrf])
async def write(page: PageDep, thread_id: str, text: Text = "") -> Response:
    page.require(PARENT)
    errors = FieldErrors()
    if not text.strip():
        errors.add("text", "missing")
    else:
        try:
            await page.api.post(
                "conversations", f"/v1/threads/{thread_id}/messages", json={"language": page.language, "text": text}
            )
            return page.redirect(f"/parent/threads/{thread_id}#end")
        except ApiProblem as problem:
            if problem.status >= 500:
                raise
            errors = next_to(problem.field_errors("text"), "text")
    return await _thread_page(page, thread_id, errors, {"text": text}, status=422)


@router.get("/enrolments/{enrolment_id}/review")
async def review_form(page: PageDep, enrolment_id: str) -> Response:
    page.require(PARENT)
    return page.render("parent/review.html", enrolment_id=enrolment_id, form={})


@router.post("/enrolments/{enrolment_id}/review", dependencies=[Csrf])
async def review(page: PageDep, enrolment_id: str, rating: Text = "", text: Text = "") -> Response:
    page.require(PARENT)
    form = {"rating": rating, "text": text}
    errors = FieldErrors()
    if rating not in {"1", "2", "3", "4", "5"}:
        errors.add("rating", "missing")
    if not text.strip():
        errors.add("text", "missing")
    if not errors:
        body = {"enrolment_id": enrolment_id, "rating": int(rating), "text": text.strip()}
        try:
            await page.api.post("catalog", "/v1/reviews", json=body)
            return page.redirect("/parent/enrolments?reviewed=1")
        except ApiProblem as problem:
            if problem.status >= 500:
                raise
            # too early (no confirmed month) names enrolment_id; a second review is a 409: both read next to the stars
            errors = problem.field_errors("rating", "text", "enrolment_id")
            for code in errors.by_field.pop("enrolment_id", []):
                errors.add("rating", code)
            errors = next_to(errors, "rating")
    return page.render("parent/review.html", status_code=422, errors=errors, enrolment_id=enrolment_id, form=form)
