"""What attendance consumes (one table: event type -> service-layer handler) and the periodic jobs of its
consumers process (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from typing import cast

from attendance.bootstrap import bootstrap
from attendance.config import AttendanceSettings
from attendance.service_layer import confirmations, projections, risks
from attendance.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import EventConsumer, Subscriptions
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

SUBSCRIPTIONS: Subscriptions[Dependencies] = {
    RegionConfiguredV1: projections.on_region_configured,
    ProgrammePublishedV1: projections.on_programme,
    ProgrammeChangedV1: projections.on_programme,
    ProgrammeClosedV1: projections.on_programme_closed,
    EnrolmentConfirmedV1: projections.on_enrolment_confirmed,
    EnrolmentEndedV1: projections.on_enrolment_ended,
    GuardianshipEstablishedV1: projections.on_guardianship,
    GuardianshipEndedV1: projections.on_guardianship,
}


def register(consumer: EventConsumer, context: ServiceContext | None) -> None:
    """Every subscription, always; the periodic jobs only in a running consumers process (``context`` is None only
    when scripts/asyncapi.py generates documents)."""
    service = bootstrap(_settings(context), context) if context is not None else None
    consumer.route(SUBSCRIPTIONS, service.deps if service is not None else cast(Dependencies, None))
    if service is None:
        return
    deps = service.deps
    # months whose confirmation deadline passed are deemed confirmed or lapse, without anyone calling an API
    consumer.every(service.settings.deadline_sweep_interval_s, lambda: confirmations.close_windows(deps))
    consumer.every(service.settings.risk_scan_interval_s, lambda: risks.scan(deps))


def _settings(context: ServiceContext) -> AttendanceSettings:
    settings = context.settings
    if isinstance(settings, AttendanceSettings):
        return settings
    return AttendanceSettings.model_validate(settings.model_dump())
