"""Composition root of payments."""

from __future__ import annotations

from dataclasses import dataclass

from payments.config import PaymentsSettings
from payments.domain.payment_order import Party
from qosym_chassis.context import ServiceContext


@dataclass(frozen=True)
class Payments:
    settings: PaymentsSettings
    context: ServiceContext

    def treasury(self, region_code: str) -> Party | None:
        account = self.settings.treasury_account(region_code)
        return Party(name=account.name, iban=account.iban, bic=account.bic) if account else None


def bootstrap(settings: PaymentsSettings, context: ServiceContext) -> Payments:
    return Payments(settings=settings, context=context)
