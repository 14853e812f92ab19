"""Login and tokens: parents (IIN + one-time code), staff (password + TOTP), refresh, logout; staff admin; audit."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request, Response, status

from qosym_chassis.auth import Principal, require_roles
from qosym_chassis.errors import Conflict, FieldError, Unauthorized, problem_response
from qosym_chassis.idempotency import NOT_STORED
from qosym_chassis.iin import InvalidIin
from registry.adapters.limits import Limiter, account_key
from registry.domain.people import OTP_TTL_S
from registry.entrypoints.people_routes import _today, actor_of
from registry.entrypoints.routes import RegistryDep
from registry.entrypoints.schemas import (
    AuditVerificationOut,
    ChallengeOut,
    CodeConfirmIn,
    CodeRequestIn,
    CreateStaffIn,
    RefreshIn,
    ServiceAccountIn,
    ServiceAccountOut,
    SessionOut,
    StaffCreatedOut,
    StaffLoginIn,
    TokenOut,
)
from registry.service_layer import identity

log = logging.getLogger("registry.identity")
identity_router = APIRouter(tags=["identity"])
Administrator = Annotated[Principal, Depends(require_roles("administrator"))]
Auditor = Annotated[Principal, Depends(require_roles("auditor"))]
LOGIN_FAILED = "the code or credentials are wrong, expired or already used"


async def _over_limit(registry: RegistryDep, key: str, limit: int) -> int | None:
    """Fixed-window counter in Redis: the seconds to wait when over the limit, else None."""
    return await Limiter(registry.context.redis).over(key, limit, registry.settings.otp_rate_window_s)


def _address(request: Request) -> str:
    """The TCP peer, or the client a trusted proxy names (uvicorn applies QOSYM_TRUSTED_PROXIES)."""
    return request.client.host if request.client else "unknown"


async def _login_refused(registry: RegistryDep, request: Request, kind: str, name: str) -> Response | None:
    """Cheap checks before any password hash: per-address and per-account rate, then the account's lockout."""
    settings, limiter = registry.settings, Limiter(registry.context.redis)
    window = settings.login_rate_window_s
    for key, limit in (
        (f"registry:login:addr:{_address(request)}", settings.login_attempts_per_address),
        (account_key(f"login:{kind}", name), settings.login_attempts_per_account),
    ):
        wait = await limiter.over(key, limit, window)
        if wait is not None:
            return _too_many(wait, "too many login attempts; try again later")
    wait = await limiter.locked(account_key(f"lockout:{kind}", name), settings.login_lockout_failures)
    if wait is not None:
        return _too_many(wait, "this account is locked after repeated failed logins; try again later")
    return None


async def _login_outcome(registry: RegistryDep, kind: str, name: str, *, ok: bool) -> None:
    limiter, key = Limiter(registry.context.redis), account_key(f"lockout:{kind}", name)
    if ok:
        await limiter.succeeded(key)
    else:
        await limiter.failed(key, registry.settings.login_lockout_s)


def _too_many(retry_after: int, detail: str = "too many code requests; try again later") -> Response:
    response = problem_response(429, "Too many requests", detail, type_="rate-limited")
    response.headers["Retry-After"] = str(retry_after)
    return response


def _session_out(tokens: identity.Tokens) -> SessionOut:
    return SessionOut(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
        subject=tokens.subject,
        role=tokens.role,
    )


@identity_router.post(
    "/v1/auth/otp/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ChallengeOut,
    responses={429: {}},
    openapi_extra=NOT_STORED,
)
async def request_code(body: CodeRequestIn, request: Request, registry: RegistryDep) -> Any:
    """Send a 6-digit code to the phone on record (the answer is the same whether or not the IIN is known)."""
    settings = registry.settings
    index = registry.protector.blind_index(body.iin.strip(" "))
    address = _address(request)
    for key, limit in (
        (f"registry:otp:addr:{address}", settings.otp_requests_per_address),
        (f"registry:otp:iin:{index.hex()}", settings.otp_requests_per_iin),
    ):
        wait = await _over_limit(registry, key, limit)
        if wait is not None:
            return _too_many(wait)
    try:
        challenge = await identity.request_code(
            registry.context.session_factory,
            registry.protector,
            registry.box,
            registry.outgoing_sms,
            body.iin,
            _today(),
        )
    except InvalidIin as exc:
        raise FieldError("iin", str(exc), code=exc.code) from exc
    return ChallengeOut(challenge_id=challenge, expires_in=OTP_TTL_S)


@identity_router.post("/v1/auth/otp/verify", responses={401: {}}, openapi_extra=NOT_STORED)
async def confirm_code(body: CodeConfirmIn, registry: RegistryDep) -> SessionOut:
    """Exchange the code for an access token (15 min) and a rotating refresh token."""
    sessions = registry.context.session_factory
    try:
        person_id = await identity.confirm_code(sessions, registry.box, body.challenge_id, body.code)
    except identity.LoginFailed as exc:
        raise Unauthorized(LOGIN_FAILED) from exc
    return _session_out(await identity.issue_tokens(sessions, registry.tokens, str(person_id), "parent"))


@identity_router.post(
    "/v1/auth/staff/login", responses={401: {}, 429: {}}, response_model=SessionOut, openapi_extra=NOT_STORED
)
async def staff_login(body: StaffLoginIn, request: Request, registry: RegistryDep) -> Any:
    """Password + TOTP; rate-limited per address and per username, locked after repeated failures (429)."""
    refused = await _login_refused(registry, request, "staff", body.username)
    if refused is not None:
        return refused
    sessions = registry.context.session_factory
    try:
        who = await identity.staff_login(sessions, registry.box, body.username, body.password, body.totp)
    except identity.LoginFailed as exc:
        await _login_outcome(registry, "staff", body.username, ok=False)
        raise Unauthorized(LOGIN_FAILED) from exc
    await _login_outcome(registry, "staff", body.username, ok=True)
    tokens = await identity.issue_tokens(sessions, registry.tokens, who["subject"], who["role"], who["scope"])
    return _session_out(tokens)


@identity_router.post("/v1/auth/refresh", responses={401: {}}, openapi_extra=NOT_STORED)
async def refresh(body: RefreshIn, registry: RegistryDep) -> SessionOut:
    """Rotate the refresh token; reusing a spent one revokes the whole session."""
    try:
        return _session_out(
            await identity.refresh(registry.context.session_factory, registry.tokens, body.refresh_token)
        )
    except identity.LoginFailed as exc:
        raise Unauthorized("the refresh token is invalid, expired or revoked") from exc


@identity_router.post("/v1/auth/logout", status_code=status.HTTP_204_NO_CONTENT, openapi_extra=NOT_STORED)
async def logout(body: RefreshIn, registry: RegistryDep) -> None:
    """Revoke the session the refresh token belongs to (idempotent)."""
    await identity.logout(registry.context.session_factory, body.refresh_token)


@identity_router.post("/v1/staff", status_code=status.HTTP_201_CREATED, responses={409: {}}, openapi_extra=NOT_STORED)
async def create_staff(body: CreateStaffIn, admin: Administrator, registry: RegistryDep) -> StaffCreatedOut:
    """Create a staff account; the one-time password and TOTP secret are shown once, here."""
    scope = body.scope.model_dump(exclude_none=True)
    if body.role == "operator" and not scope.get("region"):
        # an operator's token must name its region (the chassis refuses one that does not): never create one without
        raise FieldError("scope.region", "an operator serves one region: name it", code="missing")
    try:
        new = await identity.create_staff(
            registry.context.session_factory, registry.box, actor_of(admin), body.username, body.role, scope
        )
    except identity.Conflict as exc:
        raise Conflict(str(exc)) from exc
    return StaffCreatedOut(
        id=new.id,
        username=new.username,
        one_time_password=new.password,
        totp_secret=new.totp_secret,
        totp_uri=new.totp_uri,
    )


@identity_router.get("/v1/audit/verify", tags=["audit"])
async def verify_audit(_: Auditor, registry: RegistryDep) -> AuditVerificationOut:
    """Recompute the audit hash chain and name the first broken row, if any."""
    result = await identity.verify_audit(registry.context.session_factory)
    return AuditVerificationOut(**result.__dict__)


@identity_router.post("/v1/service-accounts", status_code=status.HTTP_201_CREATED, openapi_extra=NOT_STORED)
async def create_service_account(
    body: ServiceAccountIn, admin: Administrator, registry: RegistryDep
) -> ServiceAccountOut:
    """A partner system's client credentials; the secret is shown once, here."""
    client_id, secret = await identity.create_service_account(
        registry.context.session_factory, actor_of(admin), body.name
    )
    return ServiceAccountOut(client_id=client_id, client_secret=secret)


@identity_router.post("/v1/auth/token", responses={401: {}, 429: {}}, response_model=TokenOut, openapi_extra=NOT_STORED)
async def client_credentials_token(
    grant_type: Annotated[Literal["client_credentials"], Form()],
    client_id: Annotated[str, Form(max_length=100)],
    client_secret: Annotated[str, Form(max_length=200)],
    request: Request,
    registry: RegistryDep,
) -> Any:
    """OAuth2 client-credentials grant for partner systems: an access token with role partner.

    Rate-limited per address and per client id, locked after repeated failures (429 with Retry-After)."""
    refused = await _login_refused(registry, request, "client", client_id)
    if refused is not None:
        return refused
    try:
        subject = await identity.client_credentials(registry.context.session_factory, client_id, client_secret)
    except identity.LoginFailed as exc:
        await _login_outcome(registry, "client", client_id, ok=False)
        raise Unauthorized("unknown client or wrong secret") from exc
    await _login_outcome(registry, "client", client_id, ok=True)
    access = registry.tokens.issue(subject=subject, role="partner")
    return TokenOut(access_token=access, expires_in=registry.settings.access_token_ttl_s, subject=subject)


@identity_router.post("/v1/auth/keys/rotate", status_code=status.HTTP_201_CREATED)
async def rotate_keys(admin: Administrator, registry: RegistryDep) -> dict[str, str]:
    """Add a new signing key: it signs from now on; the previous keys stay in the JWKS while tokens live."""
    return {"kid": await identity.rotate_keys(registry.context.session_factory, registry.tokens, actor_of(admin))}
