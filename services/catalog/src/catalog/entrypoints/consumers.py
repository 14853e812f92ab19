"""What catalog consumes."""

from __future__ import annotations

from typing import Any

from catalog.adapters.cache import SearchCache, namespace_of
from catalog.service_layer import enrolments, handlers
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
