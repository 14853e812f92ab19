"""What notifications consumes."""

from __future__ import annotations

from notifications.service_layer import handlers
from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext
from qosym_contracts.registry import ChildRegisteredV1


def register(consumer: EventConsumer, _: ServiceContext) -> None:
    consumer.on(ChildRegisteredV1, handlers.notify_child_registered)
