"""Login and tokens: parents (IIN + one-time code), staff (password + TOTP), refresh, logout; staff admin (the
audit routes are the chassis's); the JWKS; development tokens."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Form, Query, Request, status

from qosym_chassis.callers import Administrator
from qosym_chassis.idempotency import NOT_STORED
from registry.entrypoints.dependencies import Deps, client_address
from registry.entrypoints.schemas import (
    ChallengeOut,
    CodeConfirmIn,
    CodeRequestIn,
    CreateStaffIn,
    DevTokenIn,
    KeyRotatedOut,
    RefreshIn,
    ServiceAccountIn,
    ServiceAccountOut,
    SessionOut,
    StaffAccessIn,
    StaffCreatedOut,
    StaffListOut,
    StaffLoginIn,
    StaffOut,
    TokenOut,
)
from registry.service_layer import identity
from registry.service_layer.access import actor_of

identity_router = APIRouter(tags=["identity"])


def _session_out(tokens: identity.Tokens) -> SessionOut:
    return SessionOut(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
        subject=tokens.subject,
        role=tokens.role,
    )


def _token_out(token: identity.AccessToken) -> TokenOut:
    return TokenOut(access_token=token.access_token, expires_in=token.expires_in, subject=token.subject)


@identity_router.post(
    "/v1/auth/otp/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ChallengeOut,
    responses={429: {}},
    openapi_extra=NOT_STORED,
)
async def request_code(body: CodeRequestIn, request: Request, deps: Deps) -> Any:
    """Send a 6-digit code to the phone on record (the answer is the same whether or not the IIN is known)."""
    challenge = await identity.request_code(deps, body.iin, client_address(request))
    return ChallengeOut(challenge_id=challenge.challenge_id, expires_in=challenge.expires_in)


@identity_router.post("/v1/auth/otp/verify", responses={401: {}}, openapi_extra=NOT_STORED)
async def confirm_code(body: CodeConfirmIn, deps: Deps) -> SessionOut:
    """Exchange the code for an access token (15 min) and a rotating refresh token."""
    return _session_out(await identity.verify_code(deps, body.challenge_id, body.code))


@identity_router.post(
    "/v1/auth/staff/login", responses={401: {}, 429: {}}, response_model=SessionOut, openapi_extra=NOT_STORED
)
async def staff_login(body: StaffLoginIn, request: Request, deps: Deps) -> Any:
    """Password + TOTP; rate-limited per address and per username, locked after repeated failures (429)."""
    tokens = await identity.staff_login(deps, body.username, body.password, body.totp, client_address(request))
    return _session_out(tokens)


@identity_router.post("/v1/auth/refresh", responses={401: {}}, openapi_extra=NOT_STORED)
async def refresh(body: RefreshIn, deps: Deps) -> SessionOut:
    """Rotate the refresh token; reusing a spent one revokes the whole session."""
    return _session_out(await identity.refresh(deps, body.refresh_token))


@identity_router.post("/v1/auth/logout", status_code=status.HTTP_204_NO_CONTENT, openapi_extra=NOT_STORED)
async def logout(body: RefreshIn, deps: Deps) -> None:
    """Revoke the session the refresh token belongs to (idempotent)."""
    await identity.logout(deps, body.refresh_token)


@identity_router.post("/v1/staff", status_code=status.HTTP_201_CREATED, responses={409: {}}, openapi_extra=NOT_STORED)
async def create_staff(body: CreateStaffIn, admin: Administrator, deps: Deps) -> StaffCreatedOut:
    """Create a staff account; the one-time password and TOTP secret are shown once, here."""
    scope = body.scope.model_dump(exclude_none=True)
    new = await identity.create_staff(deps, actor_of(admin), body.username, body.role, scope)
    return StaffCreatedOut(
        id=new.id,
        username=new.username,
        one_time_password=new.password,
        totp_secret=new.totp_secret,
        totp_uri=new.totp_uri,
    )


def _staff_out(account: identity.StaffSummary) -> StaffOut:
    return StaffOut(
        id=account.id, username=account.username, role=account.role, scope=dict(account.scope), active=account.active
    )


@identity_router.get("/v1/staff")
async def list_staff(
    admin: Administrator, deps: Deps, limit: Annotated[int, Query(ge=1, le=500)] = 200
) -> StaffListOut:
    """The staff accounts by username, with their role and scope (never a secret)."""
    return StaffListOut(items=[_staff_out(a) for a in await identity.list_staff(deps, limit)])


@identity_router.patch("/v1/staff/{staff_id}", responses={404: {}, 409: {}})
async def change_staff_access(staff_id: UUID, body: StaffAccessIn, admin: Administrator, deps: Deps) -> StaffOut:
    """Replace a staff account's scope (and role, when given): audited as ``role.changed``; its sessions are revoked
    so its next sign-in carries the new access. An operator without ``scope.region`` → 422 naming it; an
    administrator's own account → 409."""
    scope = body.scope.model_dump(exclude_none=True)
    return _staff_out(await identity.change_staff_access(deps, actor_of(admin), staff_id, body.role, scope))


@identity_router.post("/v1/service-accounts", status_code=status.HTTP_201_CREATED, openapi_extra=NOT_STORED)
async def create_service_account(body: ServiceAccountIn, admin: Administrator, deps: Deps) -> ServiceAccountOut:
    """A partner system's client credentials; the secret is shown once, here."""
    created = await identity.create_service_account(deps, actor_of(admin), body.name)
    return ServiceAccountOut(client_id=created.client_id, client_secret=created.client_secret)


@identity_router.post("/v1/auth/token", responses={401: {}, 429: {}}, response_model=TokenOut, openapi_extra=NOT_STORED)
async def client_credentials_token(
    grant_type: Annotated[Literal["client_credentials"], Form()],
    client_id: Annotated[str, Form(max_length=100)],
    client_secret: Annotated[str, Form(max_length=200)],
    request: Request,
    deps: Deps,
) -> Any:
    """OAuth2 client-credentials grant for partner systems: an access token with role partner.

    Rate-limited per address and per client id, locked after repeated failures (429 with Retry-After)."""
    token = await identity.client_credentials(deps, client_id, client_secret, client_address(request))
    return _token_out(token)


@identity_router.post("/v1/auth/keys/rotate", status_code=status.HTTP_201_CREATED)
async def rotate_keys(admin: Administrator, deps: Deps) -> KeyRotatedOut:
    """Add a new signing key: it signs from now on; the previous keys stay in the JWKS while tokens live."""
    return KeyRotatedOut(kid=await identity.rotate_keys(deps, actor_of(admin)))


@identity_router.get("/.well-known/jwks.json")
async def jwks(deps: Deps) -> identity.Jwks:
    """The public keys that verify the registry's tokens."""
    return identity.jwks(deps)


dev_router = APIRouter(tags=["development"])


@dev_router.post("/v1/dev/tokens", status_code=status.HTTP_201_CREATED, openapi_extra=NOT_STORED)
async def dev_token(body: DevTokenIn, deps: Deps) -> TokenOut:
    """Development only (QOSYM_DEV_MODE): a token for any role, to try the APIs from /docs."""
    return _token_out(
        identity.dev_token(deps, str(body.subject or uuid4()), body.role, {str(k): v for k, v in body.scope.items()})
    )
