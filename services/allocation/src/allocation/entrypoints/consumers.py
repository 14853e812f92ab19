"""What allocation consumes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from allocation.service_layer import handlers, rounds
from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext
from qosym_contracts.catalog import EnrolmentEndedV1, EnrolmentRequestedV1
from qosym_contracts.registry import (
    ChildCategoriesVerifiedV1,
    ChildDetailsChangedV1,
    ChildRegisteredV1,
    GuardianshipEndedV1,
    GuardianshipEstablishedV1,
)


def register(consumer: EventConsumer, context: ServiceContext) -> None:
    consumer.on(ChildRegisteredV1, handlers.record_child_registered)
    consumer.on(ChildDetailsChangedV1, handlers.record_child_details_changed)
    consumer.on(GuardianshipEstablishedV1, rounds.record_guardianship_established)
    consumer.on(GuardianshipEndedV1, rounds.record_guardianship_ended)
    consumer.on(ChildCategoriesVerifiedV1, rounds.record_categories)
    consumer.on(EnrolmentRequestedV1, rounds.on_enrolment_requested)
    consumer.on(EnrolmentEndedV1, rounds.on_enrolment_ended)
    if context is not None:  # None only when documents are generated (scripts/asyncapi.py)
        consumer.every(context.settings.voucher_sweep_interval_s, _voucher_sweep(context))  # type: ignore[attr-defined]


def _voucher_sweep(context: ServiceContext) -> Callable[[], Awaitable[int]]:
    """Vouchers never used by their deadline expire and are re-offered, without anyone calling an API."""

    async def sweep() -> int:
        return await rounds.expire_vouchers(context.session_factory, datetime.now(UTC).date())

    return sweep
