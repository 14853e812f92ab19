"""What catalog consumes."""

from __future__ import annotations

from catalog.service_layer import handlers
from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext
from qosym_contracts.allocation import RegionConfiguredV1


def register(consumer: EventConsumer, _: ServiceContext) -> None:
    consumer.on(RegionConfiguredV1, handlers.apply_region_configured)
