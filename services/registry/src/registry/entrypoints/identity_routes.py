"""Login and tokens: parents (IIN + one-time code), staff (password + TOTP), refresh, logout; staff admin (the audit routes are the chassis's)."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Depends, Form, Request, Response, status

from qosym_chassis.auth import Principal, require_roles
from qosym_chassis.errors import Conflict, FieldError, Unauthorized, problem_response
from qosym_chassis.sms import SmsRefused
from registry.domain.iin import InvalidIin
from registry.domain.people import OTP_TTL_S
from registry.entrypoints.people_routes import BadGateway, _today, actor_of
from registry.entrypoints.routes import RegistryDep
from registry.entrypoints.schemas import (
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
LOGIN_FAILED = "the code or credentials are wrong, expired or already used"


async def _over_limit(registry: RegistryDep, key: str, limit: int) -> int | None:
    """Fixed-window counter in Redis: the seconds to wait when over the limit, else None."""
    redis = registry.context.redis
    count = await redis.incr(key)
    if count == 1:
        await redis.expire(key, registry.settings.otp_rate_window_s)
    if count <= limit:
        return None
    return max(int(await redis.ttl(key)), 1)


def _too_many(retry_after: int) -> Response:
    response = problem_response(
        429, "Too many requests", "too many code requests; try again later", type_="rate-limited"
    )
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
    responses={429: {}, 502: {}},
)
async def request_code(body: CodeRequestIn, request: Request, registry: RegistryDep) -> Any:
    """Send a 6-digit code to the phone on record (the answer is the same whether or not the IIN is known)."""
    settings = registry.settings
    index = registry.protector.blind_index(body.iin.strip(" "))
    address = request.client.host if request.client else "unknown"
    for key, limit in (
        (f"registry:otp:addr:{address}", settings.otp_requests_per_address),
        (f"registry:otp:iin:{index.hex()}", settings.otp_requests_per_iin),
    ):
        wait = await _over_limit(registry, key, limit)
        if wait is not None:
            return _too_many(wait)
    try:
        challenge = await identity.request_code(
            registry.context.session_factory, registry.protector, registry.box, registry.sms, body.iin, _today()
        )
    except InvalidIin as exc:
        raise FieldError("iin", str(exc), code=exc.code) from exc
    except (httpx.HTTPError, SmsRefused) as exc:
        raise BadGateway("the SMS gateway did not accept the code; try again in a minute") from exc
    return ChallengeOut(challenge_id=challenge, expires_in=OTP_TTL_S)


@identity_router.post("/v1/auth/otp/verify", responses={401: {}})
async def confirm_code(body: CodeConfirmIn, registry: RegistryDep) -> SessionOut:
    """Exchange the code for an access token (15 min) and a rotating refresh token."""
    sessions = registry.context.session_factory
    try:
        person_id = await identity.confirm_code(sessions, registry.box, body.challenge_id, body.code)
    except identity.LoginFailed as exc:
        raise Unauthorized(LOGIN_FAILED) from exc
    return _session_out(await identity.issue_tokens(sessions, registry.tokens, str(person_id), "parent"))


@identity_router.post("/v1/auth/staff/login", responses={401: {}})
async def staff_login(body: StaffLoginIn, registry: RegistryDep) -> SessionOut:
    sessions = registry.context.session_factory
    try:
        who = await identity.staff_login(sessions, registry.box, body.username, body.password, body.totp)
    except identity.LoginFailed as exc:
        raise Unauthorized(LOGIN_FAILED) from exc
    tokens = await identity.issue_tokens(sessions, registry.tokens, who["subject"], who["role"], who["scope"])
    return _session_out(tokens)


@identity_router.post("/v1/auth/refresh", responses={401: {}})
async def refresh(body: RefreshIn, registry: RegistryDep) -> SessionOut:
    """Rotate the refresh token; reusing a spent one revokes the whole session."""
    try:
        return _session_out(
            await identity.refresh(registry.context.session_factory, registry.tokens, body.refresh_token)
        )
    except identity.LoginFailed as exc:
        raise Unauthorized("the refresh token is invalid, expired or revoked") from exc


@identity_router.post("/v1/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshIn, registry: RegistryDep) -> None:
    """Revoke the session the refresh token belongs to (idempotent)."""
    await identity.logout(registry.context.session_factory, body.refresh_token)


@identity_router.post("/v1/staff", status_code=status.HTTP_201_CREATED, responses={409: {}})
async def create_staff(body: CreateStaffIn, admin: Administrator, registry: RegistryDep) -> StaffCreatedOut:
    """Create a staff account; the one-time password and TOTP secret are shown once, here."""
    scope = body.scope.model_dump(exclude_none=True)
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


@identity_router.post("/v1/service-accounts", status_code=status.HTTP_201_CREATED)
async def create_service_account(
    body: ServiceAccountIn, admin: Administrator, registry: RegistryDep
) -> ServiceAccountOut:
    """A partner system's client credentials; the secret is shown once, here."""
    client_id, secret = await identity.create_service_account(
        registry.context.session_factory, actor_of(admin), body.name
    )
    return ServiceAccountOut(client_id=client_id, client_secret=secret)


@identity_router.post("/v1/auth/token", responses={401: {}})
async def client_credentials_token(
    grant_type: Annotated[Literal["client_credentials"], Form()],
    client_id: Annotated[str, Form(max_length=100)],
    client_secret: Annotated[str, Form(max_length=200)],
    registry: RegistryDep,
) -> TokenOut:
    """OAuth2 client-credentials grant for partner systems: an access token with role partner."""
    try:
        subject = await identity.client_credentials(registry.context.session_factory, client_id, client_secret)
    except identity.LoginFailed as exc:
        raise Unauthorized("unknown client or wrong secret") from exc
    access = registry.tokens.issue(subject=subject, role="partner")
    return TokenOut(access_token=access, expires_in=registry.settings.access_token_ttl_s, subject=subject)


@identity_router.post("/v1/auth/keys/rotate", status_code=status.HTTP_201_CREATED)
async def rotate_keys(admin: Administrator, registry: RegistryDep) -> dict[str, str]:
    """Add a new signing key: it signs from now on; the previous keys stay in the JWKS while tokens live."""
    return {"kid": await identity.rotate_keys(registry.context.session_factory, registry.tokens, actor_of(admin))}
