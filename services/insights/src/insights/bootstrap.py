"""Composition root of insights: settings and context in, the service's dependencies out."""

from __future__ import annotations

from dataclasses import dataclass

from insights.config import InsightsSettings
from insights.service_layer.dependencies import Dependencies
from qosym_chassis.context import ServiceContext


@dataclass(frozen=True)
class Insights:
    settings: InsightsSettings
    context: ServiceContext
    deps: Dependencies


def dependencies(settings: InsightsSettings, context: ServiceContext) -> Dependencies:
    return Dependencies(
        sessions=context.session_factory,
        clock=context.clock,
        child_key_salt=settings.child_key_salt.get_secret_value(),
        open_data_k=settings.open_data_k,
    )


def bootstrap(settings: InsightsSettings, context: ServiceContext) -> Insights:
    return Insights(settings=settings, context=context, deps=dependencies(settings, context))
