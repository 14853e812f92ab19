"""The event types a partner may subscribe to: every event of the public topics (docs/partners.md, "Topics")."""

from __future__ import annotations

from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.event_index import ALL_EVENTS


def event_type_of(event_class: type[IntegrationEvent]) -> str:
    value: str = event_class.model_fields["event_type"].default
    return value


PUBLIC_EVENTS: dict[str, type[IntegrationEvent]] = {event_type_of(cls): cls for cls in ALL_EVENTS}
"""event type (the ``event_type`` header) -> its model"""
