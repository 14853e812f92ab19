"""What allocation consumes."""

from __future__ import annotations

from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext
from qosym_contracts.registry import ChildRegisteredV1

from allocation.service_layer import handlers


def register(consumer: EventConsumer, _: ServiceContext) -> None:
    consumer.on(ChildRegisteredV1, handlers.record_child_registered)
