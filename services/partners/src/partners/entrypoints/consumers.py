"""What partners consumes: every event of the public topics, each recorded as a delivery for the subscriptions
that want it; and the delivery job, which posts the due ones. It publishes nothing (no relay)."""

from __future__ import annotations

from typing import cast

from partners.bootstrap import dependencies
from partners.config import PartnersSettings
from partners.service_layer import deliveries
from partners.service_layer.catalogue import PUBLIC_EVENTS
from partners.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import EventConsumer, Many, Subscriptions
from qosym_chassis.context import ServiceContext

SUBSCRIPTIONS: Subscriptions[Dependencies] = dict.fromkeys(
    PUBLIC_EVENTS.values(), Many(deliveries.on_events)
)  # set-based: a burst is one look-up and one insert per batch


def register(consumer: EventConsumer, context: ServiceContext | None) -> None:
    """``context`` is None only when documents are generated (scripts/asyncapi.py): the table is still listed."""
    if context is None:
        consumer.route(SUBSCRIPTIONS, cast(Dependencies, None))  # None only for documents, never applied
        return
    settings = context.settings
    assert isinstance(settings, PartnersSettings)
    deps = dependencies(settings, context)
    consumer.route(SUBSCRIPTIONS, deps)
    consumer.every(settings.webhook_interval_s, lambda: deliveries.deliver_due(deps))
