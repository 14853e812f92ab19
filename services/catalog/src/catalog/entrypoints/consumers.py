"""What catalog consumes, and the sweeps its consumer process runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from catalog.adapters.cache import SearchCache, namespace_of
from catalog.config import CatalogSettings
from catalog.service_layer import attendance, enrolments, handlers, programmes
from qosym_chassis.clock import Clock
from qosym_chassis.consumer import EventConsumer, Handler
from qosym_chassis.context import ServiceContext
from qosym_contracts.allocation import RegionConfiguredV1, VoucherAssignedV1, VoucherAssignmentRejectedV1
from qosym_contracts.attendance import AttendanceDisputedV1, AttendanceSubmittedV1, DisputeResolvedV1
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


def _at(handler: Callable[[Any, Any, datetime], Awaitable[None]], clock: Clock) -> Handler:
    """A handler that records times reads the service clock."""

    async def run(session: Any, event: Any) -> None:
        await handler(session, event, clock.now())

    return run


def register(consumer: EventConsumer, ctx: ServiceContext) -> None:
    # ctx is None when only the subscriptions are listed (scripts/asyncapi.py)
    cache = SearchCache(ctx.redis, namespace_of(ctx.settings.database_url)) if ctx is not None else None
    clock = ctx.clock if ctx is not None else Clock()
    consumer.on(RegionConfiguredV1, handlers.apply_region_configured)
    consumer.on(VoucherAssignedV1, _at(enrolments.on_voucher_assigned, clock))
    consumer.on(VoucherAssignmentRejectedV1, _invalidating(_at(enrolments.on_assignment_rejected, clock), cache))
    consumer.on(ChildRegisteredV1, enrolments.on_child_registered)
    consumer.on(ChildDetailsChangedV1, enrolments.on_child_registered)
    consumer.on(GuardianshipEstablishedV1, enrolments.on_guardianship)
    consumer.on(GuardianshipEndedV1, enrolments.on_guardianship)
    # quality signals read these at query time; the search cache may serve them up to one TTL stale
    consumer.on(AttendanceSubmittedV1, attendance.on_attendance_submitted)
    consumer.on(AttendanceDisputedV1, attendance.on_attendance_disputed)
    consumer.on(DisputeResolvedV1, attendance.on_dispute_resolved)
    if ctx is not None and cache is not None:
        settings: CatalogSettings = ctx.settings  # type: ignore[assignment]
        consumer.every(settings.attestation_sweep_interval_s, attestation_sweep(ctx, settings, cache))
        consumer.every(settings.enrolment_expiry_sweep_interval_s, expiry_sweep(ctx, settings, cache))


def attestation_sweep(
    ctx: ServiceContext, settings: CatalogSettings, cache: SearchCache
) -> Callable[[], Awaitable[int]]:
    """Programmes whose attestations lapsed are suspended (and restored once renewed), providers reminded of
    attestations about to expire, without any API call."""

    async def sweep_attestations() -> int:
        return await programmes.sweep_attestations(
            ctx.session_factory, ctx.clock.today(), settings.attestation_warning_days, cache
        )

    return sweep_attestations


def expiry_sweep(ctx: ServiceContext, settings: CatalogSettings, cache: SearchCache) -> Callable[[], Awaitable[int]]:
    """Confirmed enrolments never attended expire (seat and voucher freed) once their timesheets are in."""

    async def sweep_enrolments() -> int:
        expired = await enrolments.expire_unattended(
            ctx.session_factory, ctx.clock.now(), settings.first_session_days, settings.timesheet_grace_days
        )
        if expired:
            await cache.invalidate()
        return expired

    return sweep_enrolments
