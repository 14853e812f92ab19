"""A child's priority categories: the claims the parent declared and their status, and declaring one with its
evidence document.

The region's categories are the keys of its ``priority_weights`` (allocation ``GET /v1/regions/{code}``); the
claims and the declaration are the registry's (``GET``/``POST /v1/children/{id}/categories``, the document sent
multipart as ``file`` with the ``code``). The registry decides what it accepts (PDF, JPEG or PNG by their first
bytes, at most 5 MiB, a category of the child's region): its refusals are shown next to the field they name.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from portal.adapters.api_client import ApiProblem, FieldErrors, error_code
from portal.entrypoints.pages import Csrf, Page, PageDep

router = APIRouter()
PARENT = "parent"
EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
FIELDS = ("code", "file")
REGISTRY_CODES = frozenset({"evidence_type", "evidence_too_large", "unknown_category"})
"""The registry's own error types for a declaration, each with its words (``errors.<type>``)."""


def declaration_errors(problem: ApiProblem) -> FieldErrors:
    """The registry's refusal by field: its own types kept (``evidence_type``…), a body above the limit (413) is
    the file's, an already verified category (409) the code's; anything else as every form shows it."""
    if problem.status == 413:
        found = FieldErrors()
        found.add("file", "evidence_too_large")
        return found
    if problem.status == 409:
        found = FieldErrors()
        found.add("code", "category_verified")
        return found
    found = FieldErrors()
    for error in problem.body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        name = str(error.get("field", "")).split(".")[-1]
        kind = str(error.get("type", "invalid"))
        code = kind if kind in REGISTRY_CODES else error_code(kind)
        if name in FIELDS:
            found.add(name, code)
        else:
            found.general.append(code)
    return found or problem.field_errors(*FIELDS)


async def _categories_page(
    page: Page, child_id: str, errors: FieldErrors, form: dict[str, str], status: int = 200
) -> Response:
    child = await page.api.get("registry", f"/v1/children/{child_id}")
    claims = (await page.api.get("registry", f"/v1/children/{child_id}/categories", params={"limit": 100}))["items"]
    region = await page.api.get("allocation", f"/v1/regions/{child['region_code']}")
    weights: dict[str, Any] = (region.get("config", region) or {}).get("priority_weights") or {}
    codes = sorted(weights, key=lambda c: (-weights[c], c))  # as the region ranks them
    return page.render(
        "parent/categories.html",
        status_code=status,
        errors=errors,
        child=child,
        claims=claims,
        codes=codes,
        form=form,
    )


@router.get("/children/{child_id}/categories")
async def categories(page: PageDep, child_id: str) -> Response:
    page.require(PARENT)
    return await _categories_page(page, child_id, FieldErrors(), {})


@router.post("/children/{child_id}/categories", dependencies=[Csrf])
async def declare(
    page: PageDep,
    child_id: str,
    code: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    page.require(PARENT)
    form = {"code": code}
    errors = FieldErrors()
    if not code:
        errors.add("code", "missing")
    document = await file.read(EVIDENCE_MAX_BYTES + 1) if file is not None else b""
    if not document:
        errors.add("file", "missing")
    elif len(document) > EVIDENCE_MAX_BYTES:  # the registry would refuse it too: not sent across for nothing
        errors.add("file", "evidence_too_large")
    if not errors:
        assert file is not None
        try:
            await page.api.post(
                "registry",
                f"/v1/children/{child_id}/categories",
                data={"code": code},
                files={
                    "file": (file.filename or "evidence", document, file.content_type or "application/octet-stream")
                },
            )
            return page.redirect(f"/parent/children/{child_id}/categories?declared=1")
        except ApiProblem as problem:
            if problem.status == 404 or problem.status >= 500:
                raise
            errors = declaration_errors(problem)
    return await _categories_page(page, child_id, errors, form, status=422)
