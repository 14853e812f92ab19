"""Rate limits and lockouts as a use case sees them: a refusal is a result (429 with Retry-After), not an error."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from registry.domain.login_limits import Counter, is_locked, lockout_key, login_counters
from registry.service_layer.dependencies import Dependencies


@dataclass(frozen=True)
class RateLimited:
    retry_after: int
    detail: str


async def first_over(deps: Dependencies, counters: Iterable[Counter], detail: str) -> RateLimited | None:
    """Count one more try on each counter in turn; the first one over its limit refuses."""
    for counter in counters:
        wait = await deps.limiter.over(counter.key, counter.limit, counter.window_s)
        if wait is not None:
            return RateLimited(wait, detail)
    return None


async def login_refused(deps: Dependencies, kind: str, name: str, address: str) -> RateLimited | None:
    """Cheap checks before any password hash: per-address and per-account rate, then the account's lockout."""
    refused = await first_over(
        deps, login_counters(deps.limits, kind, name, address), "too many login attempts; try again later"
    )
    if refused is not None:
        return refused
    failures, wait = await deps.limiter.failures(lockout_key(kind, name))
    if is_locked(failures, deps.limits):
        return RateLimited(wait, "this account is locked after repeated failed logins; try again later")
    return None


async def login_outcome(deps: Dependencies, kind: str, name: str, *, ok: bool) -> None:
    key = lockout_key(kind, name)
    if ok:
        await deps.limiter.succeeded(key)
    else:
        await deps.limiter.failed(key, deps.limits.login_lockout_s)
