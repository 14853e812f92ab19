"""Registry settings (QOSYM_ environment variables)."""

from __future__ import annotations

from pathlib import Path

from qosym_chassis.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
    keys_dir: Path = Path(".qosym/keys")
    access_token_ttl_s: int = 900
    evidence_dir: Path = Path(".qosym/evidence")
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None
    otp_requests_per_iin: int = 3
    otp_requests_per_address: int = 20
    otp_rate_window_s: int = 900
    login_attempts_per_account: int = 10  # staff username or partner client id, per login_rate_window_s
    login_attempts_per_address: int = 30
    login_rate_window_s: int = 900
    login_lockout_failures: int = 5  # failed tries in a row that lock an account for login_lockout_s
    login_lockout_s: int = 900
    state_registry_url: str | None = None
    state_registry_token: str | None = None
    state_registry_file: Path | None = None
