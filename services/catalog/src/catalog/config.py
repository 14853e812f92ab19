"""Catalog settings (QOSYM_ environment variables)."""

from __future__ import annotations

from pathlib import Path

from qosym_chassis.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    service_name: str = "catalog"
    keys_dir: Path = Path(".qosym/keys")
    search_cache_ttl_s: int = 30
    decline_window_days: int = 14
    first_session_days: int = 30  # a confirmed enrolment never attended within this many days expires …
    timesheet_grace_days: int = 10  # … decided this many days into the month after the window's last month
    enrolment_expiry_sweep_interval_s: int = 3600
    attestation_warning_days: int = 30
    attestation_sweep_interval_s: int = 3600
