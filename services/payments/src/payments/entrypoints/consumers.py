"""What payments consumes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from payments.config import PaymentsSettings
from payments.service_layer import sweeps
from payments.service_layer.flows import Flows, Policy
from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext


def policy_of(settings: PaymentsSettings | None) -> Policy:
    if settings is None:
        return Policy()
    return Policy(
        thresholds_percent=tuple(settings.budget_thresholds_percent),
        school_year_end_month=settings.school_year_end_month,
    )


def register(consumer: EventConsumer, context: ServiceContext) -> None:
    settings = cast(PaymentsSettings, context.settings) if context is not None else None
    flows = Flows(policy_of(settings))
    for event_class, handler in flows.handlers.values():
        consumer.on(event_class, handler)
    if context is not None:  # None only when documents are generated (scripts/asyncapi.py)
        consumer.every(cast(PaymentsSettings, context.settings).hold_sweep_interval_s, _hold_sweep(flows, context))


def _hold_sweep(flows: Flows, context: ServiceContext) -> Callable[[], Awaitable[int]]:
    """Holds of long-past months that were never posted are voided, without anyone calling an API."""

    async def sweep() -> int:
        settings = cast(PaymentsSettings, context.settings)
        return await sweeps.void_stale_holds(
            flows, context.session_factory, context.clock.now(), settings.hold_timeout_months
        )

    return sweep
