"""What attendance consumes, and the periodic jobs of its consumers process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from attendance.service_layer import confirmations, handlers, risks
from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext
from qosym_contracts.allocation import RegionConfiguredV1
from qosym_contracts.catalog import (
    EnrolmentConfirmedV1,
    EnrolmentEndedV1,
    ProgrammeChangedV1,
    ProgrammeClosedV1,
    ProgrammePublishedV1,
)
from qosym_contracts.registry import GuardianshipEndedV1, GuardianshipEstablishedV1


def register(consumer: EventConsumer, context: ServiceContext) -> None:
    consumer.on(RegionConfiguredV1, handlers.apply_region_configured)
    consumer.on(ProgrammePublishedV1, handlers.apply_programme)
    consumer.on(ProgrammeChangedV1, handlers.apply_programme)
    consumer.on(ProgrammeClosedV1, handlers.apply_programme_closed)
    consumer.on(EnrolmentConfirmedV1, handlers.apply_enrolment_confirmed)
    consumer.on(EnrolmentEndedV1, handlers.apply_enrolment_ended)
    consumer.on(GuardianshipEstablishedV1, handlers.apply_guardianship)
    consumer.on(GuardianshipEndedV1, handlers.apply_guardianship)
    if context is not None:  # None only when documents are generated (scripts/asyncapi.py)
        settings = context.settings
        consumer.every(settings.deadline_sweep_interval_s, _close_windows(context))  # type: ignore[attr-defined]
        consumer.every(settings.risk_scan_interval_s, _scan_risks(context))  # type: ignore[attr-defined]


def _close_windows(context: ServiceContext) -> Callable[[], Awaitable[object]]:
    """Months whose confirmation deadline passed are deemed confirmed or lapse, without anyone calling an API."""

    async def sweep() -> object:
        return await confirmations.close_windows(context.session_factory, context.clock.now())

    return sweep


def _scan_risks(context: ServiceContext) -> Callable[[], Awaitable[object]]:
    async def scan() -> object:
        return await risks.scan(context.session_factory, context.clock.now())

    return scan
