"""What the registry consumes: one table, event type -> the service-layer handler that applies it
(docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from qosym_chassis.consumer import EventConsumer, Subscriptions
from qosym_chassis.context import ServiceContext
from qosym_contracts.allocation import RegionConfiguredV1
from qosym_contracts.catalog import EnrolmentConfirmedV1, EnrolmentEndedV1
from registry.service_layer import enrolments, regions
from registry.service_layer.dependencies import Dependencies

SUBSCRIPTIONS: Subscriptions[Dependencies | None] = {
    RegionConfiguredV1: regions.on_region_configured,
    EnrolmentConfirmedV1: enrolments.on_enrolment_confirmed,
    EnrolmentEndedV1: enrolments.on_enrolment_ended,
}


def register(consumer: EventConsumer, _: ServiceContext | None) -> None:
    """The registry's handlers need only the consumer's session: the consumers process builds no ``Dependencies``
    (it would load the IIN and signing keys, which only the api process creates), so the handlers get None; the
    table is routed the same way for scripts/asyncapi.py."""
    consumer.route(SUBSCRIPTIONS, None)
