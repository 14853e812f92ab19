"""Registry settings (QOSYM_ environment variables)."""

from __future__ import annotations

from pathlib import Path

from qosym_chassis.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
    keys_dir: Path = Path(".qosym/keys")
    access_token_ttl_s: int = 900
