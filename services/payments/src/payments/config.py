"""Payments settings (QOSYM_ environment variables)."""

from __future__ import annotations

from qosym_chassis.settings import ServiceSettings


class PaymentsSettings(ServiceSettings):
    service_name: str = "payments"
