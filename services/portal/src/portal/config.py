"""Portal settings (QOSYM_ environment variables, like every service's; no database, no broker)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LANGUAGES: tuple[str, ...] = ("kk", "ru", "en")


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QOSYM_", env_ignore_empty=True, extra="ignore")

    service_name: str = "portal"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    dev_mode: bool = Field(default=False, description="the local stack: show where the one-time code lands")
    keys_dir: Path = Field(
        default=Path(".qosym/keys"), description="the session-cookie key portal-session.key is generated here"
    )
    session_key: str | None = Field(
        default=None, description="production: the Fernet key of the session cookie, from the secret store"
    )
    secure_cookies: bool = Field(default=False, description="mark cookies Secure (behind HTTPS in production)")
    default_language: str = "kk"

    # the services' public APIs, as the other services get theirs (QOSYM_<SERVICE>_URL)
    registry_url: str = "http://127.0.0.1:8001"
    allocation_url: str = "http://127.0.0.1:8002"
    catalog_url: str = "http://127.0.0.1:8003"
    attendance_url: str = "http://127.0.0.1:8004"
    payments_url: str = "http://127.0.0.1:8005"
    notifications_url: str = "http://127.0.0.1:8006"
    insights_url: str = "http://127.0.0.1:8007"
    conversations_url: str = "http://127.0.0.1:8008"
    api_timeout_s: float = Field(default=10.0, gt=0)

    def service_url(self, service: str) -> str:
        url: str = getattr(self, f"{service}_url")
        return url.rstrip("/")
