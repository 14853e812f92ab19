"""Insights settings (QOSYM_ environment variables)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from qosym_chassis.settings import ServiceSettings


class InsightsSettings(ServiceSettings):
    service_name: str = "insights"
    open_data_k: int = Field(
        default=10,
        ge=2,
        description="k of the open data's k-anonymity: a published count below k is suppressed (with its complements)",
    )
    child_key_salt: SecretStr = Field(
        default=SecretStr("qosym-insights-development-salt"),
        description="salt of the pseudonymous child key (only used to count distinct children; never published)",
    )
