"""Registry settings (QOSYM_ environment variables)."""

from __future__ import annotations

from pathlib import Path

from qosym_chassis.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
    audit_trail: bool = True
    keys_dir: Path = Path(".qosym/keys")
    access_token_ttl_s: int = 900
    evidence_dir: Path = Path(".qosym/evidence")
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None
    otp_requests_per_iin: int = 3
    otp_requests_per_address: int = 20
    otp_rate_window_s: int = 900
    state_registry_url: str | None = None
    state_registry_token: str | None = None
    state_registry_file: Path | None = None
