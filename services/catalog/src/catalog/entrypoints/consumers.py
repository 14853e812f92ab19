"""What catalog consumes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from catalog.adapters.cache import SearchCache, namespace_of
from catalog.service_layer import enrolments, handlers, programmes
from qosym_chassis.consumer import EventConsumer, Handler
from qosym_chassis.context import ServiceContext
from qosym_contracts.allocation import RegionConfiguredV1, VoucherAssignedV1, VoucherAssignmentRejectedV1
from qosym_contracts.registry import (
    ChildDetailsChangedV1,
    ChildRegisteredV1,
    GuardianshipEndedV1,
    GuardianshipEstablishedV1,
)


def _invalidating(handler: Handler, cache: SearchCache | None) -> Handler:
    """Seat changes bump the search cache version (inside the transaction; the short TTL bounds any race)."""

    async def run(session: Any, event: Any) -> None:
        await handler(session, event)
        if cache is not None:
            await cache.invalidate()

    return run


def register(consumer: EventConsumer, ctx: ServiceContext) -> None:
    # ctx is None when only the subscriptions are listed (scripts/asyncapi.py)
    cache = SearchCache(ctx.redis, namespace_of(ctx.settings.database_url)) if ctx is not None else None
    consumer.on(RegionConfiguredV1, handlers.apply_region_configured)
    consumer.on(VoucherAssignedV1, enrolments.on_voucher_assigned)
    consumer.on(VoucherAssignmentRejectedV1, _invalidating(enrolments.on_assignment_rejected, cache))
    consumer.on(ChildRegisteredV1, enrolments.on_child_registered)
    consumer.on(ChildDetailsChangedV1, enrolments.on_child_registered)
    consumer.on(GuardianshipEstablishedV1, enrolments.on_guardianship)
    consumer.on(GuardianshipEndedV1, enrolments.on_guardianship)
    if ctx is not None and cache is not None:
        consumer.every(ctx.settings.attestation_sweep_interval_s, attestation_sweep(ctx, cache))  # type: ignore[attr-defined]


def attestation_sweep(ctx: ServiceContext, cache: SearchCache) -> Callable[[], Awaitable[int]]:
    """Programmes whose attestations lapsed are suspended (and restored once renewed) without any API call."""

    async def sweep() -> int:
        return await programmes.suspend_lapsed_groups(ctx.session_factory, datetime.now(UTC).date(), cache)

    return sweep
