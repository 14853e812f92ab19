"""Composition root of payments."""

from __future__ import annotations

from dataclasses import dataclass

from payments.config import PaymentsSettings
from qosym_chassis.context import ServiceContext


@dataclass(frozen=True)
class Payments:
    settings: PaymentsSettings
    context: ServiceContext


def bootstrap(settings: PaymentsSettings, context: ServiceContext) -> Payments:
    return Payments(settings=settings, context=context)
