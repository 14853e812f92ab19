"""What catalog consumes (one table: event type -> service-layer handler), and the sweeps its consumer process runs
(docs/architecture.md, "Service anatomy" and "Delivery")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from catalog.bootstrap import bootstrap, settings_of
from catalog.service_layer import attendance, attestations, enrolments, regions
from catalog.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import EventConsumer, Subscriptions
from qosym_chassis.context import ServiceContext
from qosym_contracts.allocation import RegionConfiguredV1, VoucherAssignedV1, VoucherAssignmentRejectedV1
from qosym_contracts.attendance import (
    AttendanceConfirmedV1,
    AttendanceDisputedV1,
    AttendanceSubmittedV1,
    DisputeResolvedV1,
)
from qosym_contracts.registry import (
    ChildDetailsChangedV1,
    ChildRegisteredV1,
    GuardianshipEndedV1,
    GuardianshipEstablishedV1,
)

SUBSCRIPTIONS: Subscriptions[Dependencies] = {
    RegionConfiguredV1: regions.on_region_configured,
    VoucherAssignedV1: enrolments.on_voucher_assigned,
    VoucherAssignmentRejectedV1: enrolments.on_assignment_rejected,
    ChildRegisteredV1: enrolments.on_child_registered,
    ChildDetailsChangedV1: enrolments.on_child_registered,
    GuardianshipEstablishedV1: enrolments.on_guardianship,
    GuardianshipEndedV1: enrolments.on_guardianship,
    # quality signals read these at query time; the search cache may serve them up to one TTL stale
    AttendanceSubmittedV1: attendance.on_attendance_submitted,
    AttendanceDisputedV1: attendance.on_attendance_disputed,
    DisputeResolvedV1: attendance.on_dispute_resolved,
    # a confirmed month with attendance lets a guardian review the enrolment
    AttendanceConfirmedV1: attendance.on_attendance_confirmed,
}


def register(consumer: EventConsumer, ctx: ServiceContext | None) -> None:
    """``ctx`` is None when only the subscriptions are listed (scripts/asyncapi.py): no handler runs then."""
    if ctx is None:
        consumer.route(SUBSCRIPTIONS, cast(Dependencies, None))  # listed, never called
        return
    deps = bootstrap(settings_of(ctx), ctx, with_keys=False).deps
    consumer.route(SUBSCRIPTIONS, deps)
    consumer.every(deps.settings.attestation_sweep_interval_s, attestation_sweep(deps))
    consumer.every(deps.settings.enrolment_expiry_sweep_interval_s, expiry_sweep(deps))


def attestation_sweep(deps: Dependencies) -> Callable[[], Awaitable[int]]:
    """Programmes whose attestations lapsed are suspended (and restored once renewed), providers reminded of
    attestations about to expire, without any API call."""

    async def sweep_attestations() -> int:
        return await attestations.sweep_attestations(deps)

    return sweep_attestations


def expiry_sweep(deps: Dependencies) -> Callable[[], Awaitable[int]]:
    """Confirmed enrolments never attended expire (seat and voucher freed) once their timesheets are in."""

    async def sweep_enrolments() -> int:
        return (await enrolments.expire_unattended(deps)).expired

    return sweep_enrolments
