"""Payments settings (QOSYM_ environment variables)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from payments.domain.payment_order import bic_is_valid, iban_is_valid
from qosym_chassis.settings import ServiceSettings


def _iban(value: str) -> str:
    if not iban_is_valid(value):
        raise ValueError("not a valid IBAN (ISO 13616, compact form)")
    return value


def _bic(value: str) -> str:
    if not bic_is_valid(value):
        raise ValueError("not a valid BIC (ISO 9362)")
    return value


class TreasuryAccount(BaseModel):
    """The account a region's payment orders are paid from (the debtor of pain.001)."""

    name: str = Field(max_length=140)
    iban: Annotated[str, AfterValidator(_iban)]
    bic: Annotated[str, AfterValidator(_bic)]


DEMO_TREASURY = TreasuryAccount(name="Qosym demo treasury account", iban="KZ05070KZT0000000001", bic="KKMFKZ2A")


class PaymentsSettings(ServiceSettings):
    service_name: str = "payments"
    audit_trail: bool = True
    budget_thresholds_percent: list[int] = Field(
        default_factory=lambda: [50, 75, 90, 100],
        description="BudgetThresholdReached levels (share of a round's budget)",
    )
    school_year_end_month: int = Field(default=5, ge=1, le=12, description="used when a round has no vouchers yet")
    hold_timeout_months: int = Field(default=3, ge=1, description="a month's hold not posted after this is voided")
    hold_sweep_interval_s: float = 3600.0
    treasury_accounts: dict[str, TreasuryAccount] = Field(
        default_factory=dict, description='per region: {"astana": {"name": …, "iban": …, "bic": …}}'
    )
    payment_initiator_name: str = Field(default="Qosym voucher programme", max_length=140)
    allocation_url: str = Field(default="http://127.0.0.1:8002", description="allocation API (reconciliation)")
    attendance_url: str = Field(default="http://127.0.0.1:8004", description="attendance API (reconciliation)")
    peer_timeout_s: float = 30.0

    def treasury_account(self, region_code: str) -> TreasuryAccount | None:
        """The region's configured account; in development mode a demo account stands in for unconfigured regions."""
        return self.treasury_accounts.get(region_code) or (DEMO_TREASURY if self.dev_mode else None)
