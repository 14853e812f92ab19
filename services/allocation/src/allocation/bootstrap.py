"""Composition root of allocation: the one place that builds what the use cases need (docs/architecture.md,
"Service anatomy")."""

from __future__ import annotations

from dataclasses import dataclass

from allocation.config import AllocationSettings
from allocation.service_layer.dependencies import Dependencies
from qosym_chassis.context import ServiceContext


@dataclass(frozen=True)
class Allocation:
    settings: AllocationSettings
    context: ServiceContext
    deps: Dependencies


def bootstrap(settings: AllocationSettings, context: ServiceContext) -> Allocation:
    return Allocation(
        settings=settings,
        context=context,
        deps=Dependencies(sessions=context.session_factory, clock=context.clock),
    )
