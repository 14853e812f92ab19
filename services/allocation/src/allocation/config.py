"""Allocation settings (QOSYM_ environment variables)."""

from __future__ import annotations

from qosym_chassis.settings import ServiceSettings


class AllocationSettings(ServiceSettings):
    service_name: str = "allocation"
    voucher_sweep_interval_s: float = 300.0
