"""Verify the registry's JWTs locally, and describe who is calling.

Tokens are EdDSA-signed by the registry and verified against its published JWKS, which each process holds in
memory (:class:`JwksCache`: refetched every 5 minutes, and at once (at most once a second) for a kid it does not know,
which is how a key rotation reaches it); no request waits on a network call for keys. Only EdDSA is
accepted (never an algorithm taken from the token), with issuer, audience, exp, iat and sub required.

Scope fails closed: a ``scope`` claim that is not an object of non-empty strings is refused (403), and so is an
operator token whose scope names no region (an operator serves one region, optionally one district of it; there is
no "every region" operator). Administrators, auditors and ops are unscoped by design.
Clock skew allowed on exp/iat: ``QOSYM_JWT_LEEWAY_S`` (5 seconds by default).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from qosym_chassis.errors import Forbidden, Unauthorized

log = logging.getLogger("qosym.auth")

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


class JwksUnavailable(Exception):
    """The identity provider's key set could not be fetched (and no earlier copy holds the key asked for)."""


Fetch = Callable[[], Awaitable[dict[str, Any]]]


class JwksCache:
    """The identity provider's public keys, held in memory: a request never waits on the network for them.

    The key set is fetched once, then again in the background of a request every ``ttl_s`` (a key the provider
    dropped stops verifying then). A token naming a kid the cache does not hold (the provider rotated its keys)
    triggers one refetch, at most every ``min_refresh_s`` however many such tokens arrive, so forged kids cannot
    turn verification into a stream of requests to the provider. When a refetch fails, the keys already held
    keep verifying (the provider being briefly down must not log everyone out); when nothing was ever fetched,
    the caller learns the keys are unreachable. One fetch at a time per process (concurrent callers wait for it).
    """

    def __init__(
        self,
        url: str,
        *,
        ttl_s: float = 300.0,
        min_refresh_s: float = 1.0,
        timeout_s: float = 5.0,
        fetch: Fetch | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._ttl_s = ttl_s
        self._min_refresh_s = min_refresh_s
        self._timeout_s = timeout_s
        self._fetch = fetch or self._fetch_over_http
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0
        """how many times the key set was requested (for tests and diagnostics)"""

    async def _fetch_over_http(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=self._timeout_s) as client:
            response = await client.get(self._url)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
            return document

    def _stale(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self._ttl_s

    def _may_refetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self._min_refresh_s

    async def key(self, kid: str) -> jwt.PyJWK:
        now = self._clock()
        if kid in self._keys and not self._stale(now):
            return self._keys[kid]
        if self._may_refetch(now) or (kid not in self._keys and self._lock.locked()):
            # a fetch in flight may bring the key: wait for it rather than refuse the caller
            async with self._lock:
                if (kid not in self._keys or self._stale(self._clock())) and self._may_refetch(self._clock()):
                    await self._refresh()
        if kid in self._keys:
            return self._keys[kid]
        if self._fetched_at is None:
            raise JwksUnavailable(self._url)
        raise jwt.InvalidKeyError("the token's key id is not in the identity provider's key set")

    async def _refresh(self) -> None:
        self._attempted_at = self._clock()
        self.fetches += 1
        try:
            document = await self._fetch()
            keys = {}
            for entry in document.get("keys", []):
                if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                    continue
                try:
                    keys[entry["kid"]] = jwt.PyJWK(entry, algorithm=ALGORITHM)
                except jwt.PyJWTError:
                    continue  # a key of another kind (or malformed) never verifies our tokens
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            log.warning("could not fetch the identity provider's keys from %s: %s", self._url, exc)
            return
        self._keys = keys
        self._fetched_at = self._clock()


class JwtVerifier:
    """Verify a bearer token against the cached key set; a token already verified in this process is answered
    from a bounded memo until its expiry (the idempotency middleware and the route both ask for the caller)."""

    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        leeway_s: int = 5,
        keys: JwksCache | None = None,
        memo_size: int = 10_000,
    ) -> None:
        self.keys = keys or JwksCache(jwks_url)
        self._issuer = issuer
        self._audience = audience
        self._leeway_s = leeway_s
        self._memo: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._memo_size = memo_size

    async def verify(self, token: str) -> Principal:
        remembered = self._memo.get(token)
        if remembered is not None:
            principal, expires = remembered
            if time.time() < expires:
                self._memo.move_to_end(token)
                return replace(principal, scope=dict(principal.scope))
            del self._memo[token]
        principal, expires = await self._verify(token)
        self._memo[token] = (principal, expires)
        if len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)
        return replace(principal, scope=dict(principal.scope))

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            if not isinstance(kid, str):
                raise jwt.InvalidTokenError("the token names no key id")
            signing_key = await self.keys.key(kid)
            claims: dict[str, Any] = jwt.decode(
                token,
                signing_key.key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except JwksUnavailable as exc:
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
        principal = Principal(subject=str(claims["sub"]), role=str(role), scope=scope, acting_for=claims.get("act"))
        return principal, float(claims["exp"]) + self._leeway_s


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
