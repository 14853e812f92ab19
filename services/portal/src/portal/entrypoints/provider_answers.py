"""Provider staff answering families: declining an enrolment, changing or closing a programme, the parents'
messages and the programmes' reviews.

catalog: ``POST /v1/enrolments/{id}/decline`` (with the reason the family reads; catalog confirms an enrolment by
itself once allocation assigns the child's voucher, so there is no accepting step, and refuses a decline after its
window with a 409), ``PATCH /v1/programmes/{id}`` (only the fields that changed are sent), ``POST …/close``,
``GET /v1/programmes/{id}/reviews``, ``POST /v1/reviews/{id}/answer`` (once). conversations: ``GET /v1/threads``,
``GET /v1/threads/{id}``, ``…/messages``, ``POST …/messages``, ``POST …/read``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from portal.adapters import staff_api
from portal.adapters.api_client import ApiProblem, FieldErrors, ServiceUnavailable
from portal.entrypoints.pages import Csrf, Page, PageDep
from portal.entrypoints.provider_team import LANGUAGES, WEEKDAYS, _integer, _provider_of

router = APIRouter()
Text = Annotated[str, Form()]
NUMBERS = ("age_min", "age_max", "sessions_per_month", "capacity", "price")
EDITED = ("title_kk", "title_ru", "title_en", *NUMBERS, "address", "start", "end")
API_FIELDS = (
    "age_min",
    "age_max",
    "sessions_per_month",
    "capacity",
    "price_per_month_tiyn",
    "address",
    "title",
    "schedule",
)


def _one_field(errors: FieldErrors, name: str) -> FieldErrors:
    """A refusal naming no field of a one-field form (a 409: too late, answered already) is shown next to it."""
    for code in errors.general:
        errors.add(name, code)
    errors.general.clear()
    return errors


async def _names(page: Page, child_ids: list[str]) -> dict[str, str | None]:
    """The children's display names from the registry; a page still shows the short id when it does not answer."""
    provider_id = _provider_of(page)
    if not child_ids:
        return {}
    try:
        return await staff_api.child_names(page.api, provider_id, child_ids)
    except (ApiProblem, ServiceUnavailable):
        return {}


# --- declining an enrolment ------------------------------------------------------------------------------------


async def _decline_page(
    page: Page, enrolment_id: str, errors: FieldErrors | None = None, reason: str = "", status: int = 200
) -> Response:
    provider_id = _provider_of(page)
    enrolment = await staff_api.enrolment(page.api, enrolment_id)
    programmes = {str(p["id"]): p for p in await staff_api.programmes_of(page.api, provider_id)}
    return page.render(
        "provider/decline.html",
        status_code=status,
        errors=errors,
        enrolment=enrolment,
        programme=programmes.get(str(enrolment["programme_id"])),
        names=await _names(page, [str(enrolment["child_id"])]),
        form={"reason": reason},
    )


@router.get("/enrolments/{enrolment_id}/decline")
async def decline_form(page: PageDep, enrolment_id: str) -> Response:
    return await _decline_page(page, enrolment_id)


@router.post("/enrolments/{enrolment_id}/decline", dependencies=[Csrf])
async def decline(page: PageDep, enrolment_id: str, reason: Text = "") -> Response:
    _provider_of(page)
    errors = FieldErrors()
    if not reason.strip():
        errors.add("reason", "missing")
    else:
        try:
            await staff_api.decline_enrolment(page.api, enrolment_id, reason.strip())
        except ApiProblem as problem:
            if problem.status >= 500:
                raise
            errors = _one_field(problem.field_errors("reason"), "reason")
        else:
            return page.redirect("/provider?declined=1#enrolments-heading")
    return await _decline_page(page, enrolment_id, errors, reason, status=422)


# --- changing or closing a programme -------------------------------------------------------------------------


async def _owned_programme(page: Page, programme_id: str) -> dict[str, Any]:
    """The programme from the provider's own listing (the public one hides suspended and closed programmes)."""
    provider_id = _provider_of(page)
    for programme in await staff_api.programmes_of(page.api, provider_id):
        if str(programme["id"]) == programme_id:
            return programme
    raise ApiProblem("catalog", 404, {"errors": [{"field": "programme_id", "type": "not_found"}]})


def _form_of(programme: dict[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {f"title_{code}": str(programme.get("title", {}).get(code, "")) for code in LANGUAGES}
    form.update({name: str(programme[name]) for name in ("age_min", "age_max", "sessions_per_month", "capacity")})
    form["price"] = str(programme["price_per_month_tiyn"] // 100)
    form["address"] = str(programme["address"])
    form.update(_schedule_form(programme.get("schedule") or []))
    return form


def _schedule_form(schedule: list[dict[str, Any]]) -> dict[str, Any]:
    """The form shows the days and one start and end time (the first slot's), as the new-programme form asks."""
    first = schedule[0] if schedule else {}
    return {
        "weekday": sorted({str(slot["weekday"]) for slot in schedule}),
        "start": str(first.get("start", ""))[:5],
        "end": str(first.get("end", ""))[:5],
        "mixed_times": len({(str(s["start"])[:5], str(s["end"])[:5]) for s in schedule}) > 1,
    }


async def _edit_page(
    page: Page,
    programme_id: str,
    form: dict[str, Any] | None = None,
    errors: FieldErrors | None = None,
    status: int = 200,
    notice: str | None = None,
    ended: int | None = None,
) -> Response:
    programme = await _owned_programme(page, programme_id)
    return page.render(
        "provider/programme_edit.html",
        status_code=status,
        errors=errors,
        programme=programme,
        form=form if form is not None else _form_of(programme),
        languages=LANGUAGES,
        weekdays=WEEKDAYS,
        notice=notice,
        ended=ended,
    )


@router.get("/programmes/{programme_id}")
async def edit_programme(page: PageDep, programme_id: str, saved: str = "", closed: str = "") -> Response:
    notice = "provider.programme_edit.saved" if saved else None
    ended = int(closed) if closed.isdigit() else None
    return await _edit_page(page, programme_id, notice=notice, ended=ended)


def _changes(form: dict[str, Any], current: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
    """The fields whose value differs from the programme's: only those are sent (the schedule only when its days or
    times were changed, so a programme whose days have different times keeps them when something else changes)."""
    changes: dict[str, Any] = {}
    shown = _schedule_form(current.get("schedule") or [])
    days, start, end = form.get("weekday", []), form.get("start", ""), form.get("end", "")
    if (days, start, end) != (shown["weekday"], shown["start"], shown["end"]):
        if not days:
            errors.add("schedule", "missing")
        for name, value in (("start", start), ("end", end)):
            if not value:
                errors.add(name, "missing")
        if days and start and end:
            changes["schedule"] = [{"weekday": int(d), "start": start, "end": end} for d in days]
    titles = {code: form.get(f"title_{code}", "") for code in LANGUAGES}
    for code, title in titles.items():
        if not title:
            errors.add(f"title_{code}", "missing")
    if titles != current.get("title"):
        changes["title"] = titles
    for name in NUMBERS:
        value = _integer(form, name, errors)
        if value is None:
            if not errors.of(name):
                errors.add(name, "missing")
            continue
        if name == "price":
            # shown in whole tenge: a price with tiyn stays as it is unless another amount is typed
            if value != current.get("price_per_month_tiyn", 0) // 100:
                changes["price_per_month_tiyn"] = value * 100
        elif value != current.get(name):
            changes[name] = value
    if not form.get("address"):
        errors.add("address", "missing")
    elif form["address"] != current.get("address"):
        changes["address"] = form["address"]
    return changes


def _next_to_fields(problem: ApiProblem) -> FieldErrors:
    errors = problem.field_errors(*API_FIELDS, *(f"title.{code}" for code in LANGUAGES))
    if errors.of("price_per_month_tiyn"):
        errors.by_field["price"] = errors.by_field.pop("price_per_month_tiyn")
    for code in LANGUAGES:
        if errors.of(f"title.{code}"):
            errors.by_field[f"title_{code}"] = errors.by_field.pop(f"title.{code}")
    if errors.of("title"):
        errors.by_field[f"title_{LANGUAGES[0]}"] = errors.by_field.pop("title")
    return errors


@router.post("/programmes/{programme_id}", dependencies=[Csrf])
async def change_programme(page: PageDep, request: Request, programme_id: str) -> Response:
    submitted = await request.form()
    form: dict[str, Any] = {name: str(submitted.get(name, "")).strip() for name in EDITED}
    form["weekday"] = sorted({str(v) for v in submitted.getlist("weekday")})
    current = await _owned_programme(page, programme_id)
    form["mixed_times"] = _schedule_form(current.get("schedule") or [])["mixed_times"]
    errors = FieldErrors()
    changes = _changes(form, current, errors)
    if not errors:
        if not changes:
            return page.redirect(f"/provider/programmes/{programme_id}?saved=1")
        try:
            await staff_api.change_programme(page.api, programme_id, changes)
        except ApiProblem as problem:
            if problem.status >= 500:
                raise
            errors = _next_to_fields(problem)
        else:
            return page.redirect(f"/provider/programmes/{programme_id}?saved=1")
    return await _edit_page(page, programme_id, form, errors, status=422)


@router.post("/programmes/{programme_id}/close", dependencies=[Csrf])
async def close_programme(page: PageDep, programme_id: str, confirm: Text = "") -> Response:
    _provider_of(page)
    errors = FieldErrors()
    if confirm != "yes":
        errors.add("confirm", "missing")
        return await _edit_page(page, programme_id, errors=errors, status=422)
    try:
        closed = await staff_api.close_programme(page.api, programme_id)
    except ApiProblem as problem:
        if problem.status >= 500:
            raise
        return await _edit_page(page, programme_id, errors=_one_field(problem.field_errors(), "confirm"), status=422)
    return page.redirect(f"/provider/programmes/{programme_id}?closed={int(closed.get('enrolments_ended', 0))}")


# --- parents' messages -----------------------------------------------------------------------------------------


async def _about(page: Page) -> dict[str, dict[str, Any] | None]:
    """Each enrolment's programme (a thread is about an enrolment): the title shown next to the thread."""
    provider_id = _provider_of(page)
    programmes = {str(p["id"]): p for p in await staff_api.programmes_of(page.api, provider_id)}
    return {
        str(e["id"]): programmes.get(str(e["programme_id"])) for e in await staff_api.enrolments(page.api, provider_id)
    }


@router.get("/threads")
async def threads(page: PageDep) -> Response:
    _provider_of(page)
    found = await staff_api.threads(page.api)
    names = await _names(page, [str(th["child_id"]) for th in found])
    return page.render("provider/threads.html", threads=found, about=await _about(page), names=names)


async def _thread_page(
    page: Page, thread_id: str, errors: FieldErrors | None = None, text: str = "", status: int = 200
) -> Response:
    thread = await staff_api.thread(page.api, thread_id)
    messages = await staff_api.thread_messages(page.api, thread_id)
    if messages:
        await staff_api.mark_thread_read(page.api, thread_id)
    about = await _about(page)
    return page.render(
        "provider/thread.html",
        status_code=status,
        errors=errors,
        thread=thread,
        messages=messages,
        programme=about.get(str(thread["object_id"])),
        names=await _names(page, [str(thread["child_id"])]),
        form={"text": text},
    )


@router.get("/threads/{thread_id}")
async def thread(page: PageDep, thread_id: str) -> Response:
    _provider_of(page)
    return await _thread_page(page, thread_id)


@router.post("/threads/{thread_id}/messages", dependencies=[Csrf])
async def write(page: PageDep, thread_id: str, text: Text = "") -> Response:
    _provider_of(page)
    errors = FieldErrors()
    if not text.strip():
        errors.add("text", "missing")
    else:
        try:
            await staff_api.post_message(page.api, thread_id, page.language, text.strip())
        except ApiProblem as problem:
            if problem.status >= 500:
                raise
            errors = _one_field(problem.field_errors("text"), "text")
        else:
            return page.redirect(f"/provider/threads/{thread_id}#end")
    return await _thread_page(page, thread_id, errors, text, status=422)


# --- reviews -----------------------------------------------------------------------------------------------------


async def _reviews_page(
    page: Page,
    errors: FieldErrors | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    provider_id = _provider_of(page)
    groups = []
    for programme in await staff_api.programmes_of(page.api, provider_id):
        reviews = await staff_api.reviews_of(page.api, str(programme["id"]))
        if reviews:
            groups.append({"programme": programme, "reviews": reviews})
    return page.render(
        "provider/reviews.html", status_code=status, errors=errors, groups=groups, form=form or {}, notice=notice
    )


@router.get("/reviews")
async def reviews(page: PageDep, answered: str = "") -> Response:
    return await _reviews_page(page, notice="provider.reviews.answered" if answered else None)


@router.post("/reviews/{review_id}/answer", dependencies=[Csrf])
async def answer_review(page: PageDep, review_id: str, text: Text = "") -> Response:
    _provider_of(page)
    field = f"answer-{review_id}"
    errors = FieldErrors()
    if not text.strip():
        errors.add(field, "missing")
    else:
        try:
            await staff_api.answer_review(page.api, review_id, text.strip())
        except ApiProblem as problem:
            if problem.status >= 500:
                raise
            found = problem.field_errors("text")
            for code in found.by_field.pop("text", []):
                found.add(field, code)
            errors = _one_field(found, field)
        else:
            return page.redirect(f"/provider/reviews?answered=1#review-{review_id}")
    return await _reviews_page(page, errors, {field: text}, status=422)
