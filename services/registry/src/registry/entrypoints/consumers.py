"""What the registry consumes."""

from __future__ import annotations

from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext
from qosym_contracts.allocation import RegionConfiguredV1
from registry.service_layer import handlers


def register(consumer: EventConsumer, _: ServiceContext) -> None:
    consumer.on(RegionConfiguredV1, handlers.apply_region_configured)
