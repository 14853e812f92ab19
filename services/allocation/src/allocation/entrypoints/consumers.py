"""What allocation consumes: one subscription table, and the voucher-expiry sweep (docs/architecture.md,
"Service anatomy")."""

from __future__ import annotations

from typing import cast

from allocation.bootstrap import Allocation, bootstrap
from allocation.config import AllocationSettings
from allocation.service_layer import children, enrolments, vouchers
from allocation.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import EventConsumer, Subscriptions
from qosym_chassis.context import ServiceContext
from qosym_contracts.catalog import EnrolmentEndedV1, EnrolmentRequestedV1
from qosym_contracts.registry import (
    ChildCategoriesVerifiedV1,
    ChildDetailsChangedV1,
    ChildRegisteredV1,
    GuardianshipEndedV1,
    GuardianshipEstablishedV1,
)

SUBSCRIPTIONS: Subscriptions[Dependencies] = {
    ChildRegisteredV1: children.on_child_registered,
    ChildDetailsChangedV1: children.on_child_details_changed,
    GuardianshipEstablishedV1: children.on_guardianship_established,
    GuardianshipEndedV1: children.on_guardianship_ended,
    ChildCategoriesVerifiedV1: children.on_categories_verified,
    EnrolmentRequestedV1: enrolments.on_enrolment_requested,
    EnrolmentEndedV1: enrolments.on_enrolment_ended,
}


def register(consumer: EventConsumer, context: ServiceContext | None) -> None:
    """Bind the subscriptions to allocation's dependencies. ``context`` is None only when documents are generated
    (scripts/asyncapi.py): every subscription is still listed, the periodic sweep is skipped."""
    service = _service(context)
    consumer.route(SUBSCRIPTIONS, service.deps if service is not None else cast(Dependencies, None))
    if service is not None:
        consumer.every(service.settings.voucher_sweep_interval_s, lambda: _sweep(service.deps))


def _service(context: ServiceContext | None) -> Allocation | None:
    if context is None:
        return None
    return bootstrap(cast(AllocationSettings, context.settings), context)


async def _sweep(deps: Dependencies) -> int:
    """Vouchers never used by their deadline expire and are re-offered, on the service clock's day."""
    return (await vouchers.expire_vouchers(deps)).expired
