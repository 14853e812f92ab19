"""Partners settings (QOSYM_ environment variables)."""

from __future__ import annotations

from pydantic import Field

from qosym_chassis.settings import ServiceSettings


class PartnersSettings(ServiceSettings):
    service_name: str = "partners"
    webhook_interval_s: float = Field(
        default=1.0, gt=0, description="how often the consumers process posts due deliveries"
    )
    webhook_batch: int = Field(default=50, ge=1, le=1000, description="deliveries claimed per run")
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60, description="one POST's timeout")
    webhook_max_attempts: int = Field(default=8, ge=1, le=30, description="attempts before a delivery is dead-lettered")
    webhook_backoff_base_s: float = Field(
        default=30.0, gt=0, description="the wait after the first failed attempt; doubled after each further one"
    )
    webhook_backoff_max_s: float = Field(default=6 * 3600.0, gt=0, description="the longest wait between attempts")
    webhook_allow_http: bool = Field(
        default=False, description="accept http:// endpoints (always in development mode); production needs https://"
    )
