"""Rate limits and lockouts as a use case sees them: a refusal is a TooManyRequests (429 with Retry-After)."""

from __future__ import annotations

from collections.abc import Iterable

from qosym_chassis.errors import TooManyRequests
from registry.domain.login_limits import Counter, is_locked, lockout_key, login_counters
from registry.service_layer.dependencies import Dependencies


async def first_over(deps: Dependencies, counters: Iterable[Counter], detail: str) -> None:
    """Count one more try on each counter in turn; the first one over its limit refuses."""
    for counter in counters:
        wait = await deps.limiter.over(counter.key, counter.limit, counter.window_s)
        if wait is not None:
            raise TooManyRequests(detail, retry_after_s=wait)


async def login_refused(deps: Dependencies, kind: str, name: str, address: str) -> None:
    """Cheap checks before any password hash: per-address and per-account rate, then the account's lockout."""
    await first_over(deps, login_counters(deps.limits, kind, name, address), "too many login attempts; try again later")
    failures, wait = await deps.limiter.failures(lockout_key(kind, name))
    if is_locked(failures, deps.limits):
        raise TooManyRequests(
            "this account is locked after repeated failed logins; try again later", retry_after_s=wait
        )


async def login_outcome(deps: Dependencies, kind: str, name: str, *, ok: bool) -> None:
    key = lockout_key(kind, name)
    if ok:
        await deps.limiter.succeeded(key)
    else:
        await deps.limiter.failed(key, deps.limits.login_lockout_s)
