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
    if context is None:  # only when documents are generated (scripts/asyncapi.py): every subscription, no jobs
        consumer.route(SUBSCRIPTIONS, cast(Dependencies, None))
        return
    settings = context.settings
    if not isinstance(settings, AttendanceSettings):
        settings = AttendanceSettings.model_validate(settings.model_dump())
    deps = bootstrap(settings, context).deps
    consumer.route(SUBSCRIPTIONS, deps)
    # months whose confirmation deadline passed are deemed confirmed or lapse, without anyone calling an API
    consumer.every(settings.deadline_sweep_interval_s, lambda: confirmations.close_windows(deps))
    consumer.every(settings.risk_scan_interval_s, lambda: risks.scan(deps))
