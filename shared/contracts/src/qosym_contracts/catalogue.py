"""Index of every event model, used for JSON Schema snapshots and AsyncAPI."""

from __future__ import annotations

from qosym_contracts.allocation import RegionConfiguredV1
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.registry import ChildRegisteredV1

ALL_EVENTS: tuple[type[IntegrationEvent], ...] = (ChildRegisteredV1, RegionConfiguredV1)


def schema_name(event: type[IntegrationEvent]) -> str:
    return f"{event.topic}.{event.__name__}"
