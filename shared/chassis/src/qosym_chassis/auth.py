"""Verify the registry's JWTs locally, and describe who is calling.

Tokens are EdDSA-signed by the registry and verified against its published JWKS. Only EdDSA is
accepted (never an algorithm taken from the token), with issuer, audience, exp, iat and sub required.

Scope fails closed: a ``scope`` claim that is not an object of non-empty strings is refused (403), and so is an
operator token whose scope names no region (an operator serves one region, optionally one district of it; there is
no "every region" operator). Administrators, auditors and ops are unscoped by design.
Clock skew allowed on exp/iat: ``QOSYM_JWT_LEEWAY_S`` (5 seconds by default).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from qosym_chassis.errors import Forbidden, Unauthorized

ALGORITHM = "EdDSA"
ROLES = ("parent", "operator", "administrator", "provider_staff", "auditor", "partner", "ops")
SCOPED_ROLES = ("operator",)  # roles that must carry scope.region


def parse_scope(raw: Any) -> dict[str, str] | None:
    """The token's ``scope`` claim as a mapping of strings, or None when it is malformed (never "no limits")."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) and k and v.strip() for k, v in raw.items()):
        return None
    return dict(raw)


def scope_problem(role: str, scope: dict[str, str] | None) -> str | None:
    """Why a principal with this role and scope may do nothing at all (None when the scope is acceptable)."""
    if scope is None:
        return "the token's scope is malformed"
    if role in SCOPED_ROLES and not scope.get("region"):
        return f"an {role} token must name its region in its scope"
    return None


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    scope: dict[str, str] = field(default_factory=dict)
    acting_for: str | None = None

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class JwtVerifier:
    def __init__(self, jwks_url: str, *, issuer: str, audience: str, leeway_s: int = 5) -> None:
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self._issuer = issuer
        self._audience = audience
        self._leeway_s = leeway_s

    async def verify(self, token: str) -> Principal:
        try:
            signing_key = await anyio.to_thread.run_sync(self._jwks.get_signing_key_from_jwt, token)
            claims: dict[str, Any] = jwt.decode(
                token,
                signing_key.key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise Unauthorized("the identity provider's keys are unreachable") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("invalid or expired token") from exc
        role = claims.get("role")
        if role not in ROLES:
            raise Unauthorized("token has no known role")
        scope = parse_scope(claims.get("scope"))
        problem = scope_problem(str(role), scope)
        if problem is not None or scope is None:
            raise Forbidden(problem or "the token's scope is malformed")
        return Principal(subject=str(claims["sub"]), role=str(role), scope=scope, acting_for=claims.get("act"))


_bearer = HTTPBearer(auto_error=False, description="a JWT issued by the registry")


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required")
    verifier: JwtVerifier = request.app.state.jwt_verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(*roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")
        return principal

    return dependency
