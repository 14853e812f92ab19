"""Signing in and out, and the language switch.

Parents: IIN, then the 6-digit code the registry sends by SMS (``/v1/auth/otp/request`` and ``/verify``).
Staff (administrators, operators, provider staff): username, password and TOTP (``/v1/auth/staff/login``).
The registry's tokens go into the encrypted session cookie (``Page.sign_in``); nothing else is kept.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal.adapters.api_client import ApiProblem, FieldErrors, ServiceUnavailable, session_from_tokens
from portal.adapters.session import LANGUAGE_COOKIE
from portal.entrypoints.pages import HOME_OF_ROLE, Csrf, Page, PageDep, safe_next
from portal.i18n import LANGUAGES

router = APIRouter()
Text = Annotated[str, Form()]


@router.get("/")
async def home(page: PageDep) -> Response:
    if page.session is None:
        return page.redirect("/login")
    return page.redirect(HOME_OF_ROLE.get(page.session.role, "/login"))


@router.get("/lang/{code}")
async def switch_language(code: str, page: PageDep, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="strict", httponly=True)
    return response


@router.get("/login")
async def login_form(page: PageDep) -> Response:
    return page.render("auth/login.html")


@router.post("/login", dependencies=[Csrf])
async def request_code(page: PageDep, iin: Text = "") -> Response:
    iin = iin.strip()
    if not iin:
        return page.render("auth/login.html", status_code=422, errors=_missing("iin"), iin=iin)
    try:
        challenge = await page.api.post("registry", "/v1/auth/otp/request", json={"iin": iin}, signed_in=False)
    except ApiProblem as problem:
        return page.render("auth/login.html", status_code=problem.status, errors=problem.field_errors("iin"), iin=iin)
    return page.render(
        "auth/code.html",
        challenge_id=challenge["challenge_id"],
        expires_in=challenge["expires_in"],
        texts=await _local_phone(page),
    )


async def _local_phone(page: Page) -> list[dict[str, Any]] | None:
    """Development only: the newest texts notifications' SMS stand-in received (None when it does not answer)."""
    if not page.settings.dev_mode:
        return []
    try:
        answer = await page.api.call(
            "GET", "notifications", "/dev/sms-gateway/v1/messages", params={"limit": 3}, signed_in=False
        )
    except (ApiProblem, ServiceUnavailable):
        return None
    return list(answer["items"])


@router.get("/login/dev-phone")
async def dev_phone(page: PageDep) -> Response:
    """The local stack's phone on the code page (htmx asks again every 2 s); not there outside development."""
    if not page.settings.dev_mode:
        raise StarletteHTTPException(status_code=404)
    return page.render("auth/_dev_phone.html", texts=await _local_phone(page))


@router.post("/login/code", dependencies=[Csrf])
async def verify_code(page: PageDep, challenge_id: Text = "", code: Text = "") -> Response:
    code = code.strip()
    try:
        tokens = await page.api.post(
            "registry", "/v1/auth/otp/verify", json={"challenge_id": challenge_id, "code": code}, signed_in=False
        )
    except ApiProblem as problem:
        errors = problem.field_errors("code")
        if problem.status == 401 or not errors.of("code"):
            errors = FieldErrors({"code": ["code_wrong"]})
        return page.render("auth/code.html", status_code=problem.status, errors=errors, challenge_id=challenge_id)
    session = session_from_tokens(tokens)
    page.sign_in(session)
    return page.redirect(HOME_OF_ROLE.get(session.role, "/"))


@router.get("/staff/login")
async def staff_login_form(page: PageDep) -> Response:
    return page.render("auth/staff_login.html")


@router.post("/staff/login", dependencies=[Csrf])
async def staff_login(page: PageDep, username: Text = "", password: Text = "", totp: Text = "") -> Response:
    body = {"username": username.strip(), "password": password, "totp": totp.strip()}
    try:
        tokens = await page.api.post("registry", "/v1/auth/staff/login", json=body, signed_in=False)
    except ApiProblem as problem:
        errors = problem.field_errors("username", "password", "totp")
        if problem.status == 401:
            errors = FieldErrors(general=["staff_login_failed"])
        return page.render("auth/staff_login.html", status_code=problem.status, errors=errors, username=username)
    session = session_from_tokens(tokens)
    page.sign_in(session)
    return page.redirect(HOME_OF_ROLE.get(session.role, "/"))


@router.post("/logout", dependencies=[Csrf])
async def logout(page: PageDep) -> Response:
    if page.session is not None:
        with contextlib.suppress(ApiProblem):  # already revoked: signed out either way
            await page.api.post(
                "registry", "/v1/auth/logout", json={"refresh_token": page.session.refresh_token}, signed_in=False
            )
        page.sign_out()
    return page.redirect("/login")


def _missing(name: str) -> FieldErrors:
    return FieldErrors({name: ["missing"]})
