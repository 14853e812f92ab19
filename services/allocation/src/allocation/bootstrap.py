"""Composition root of allocation."""

from __future__ import annotations

from dataclasses import dataclass

from allocation.config import AllocationSettings
from qosym_chassis.context import ServiceContext


@dataclass(frozen=True)
class Allocation:
    settings: AllocationSettings
    context: ServiceContext


def bootstrap(settings: AllocationSettings, context: ServiceContext) -> Allocation:
    return Allocation(settings=settings, context=context)
