"""Notifications settings (QOSYM_ environment variables)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from qosym_chassis.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"
    keys_dir: Path = Path(".qosym/keys")
    default_language: Literal["kk", "ru", "en"] = Field(
        default="en", description="for a reader with no language preference and no Accept-Language we support"
    )
    default_timezone: str = "Asia/Almaty"
    explanation_url: str = Field(
        default="http://127.0.0.1:8000/v1/applications/{application_id}/explanation",
        description="where a parent reads why the round decided as it did ({application_id} is filled in)",
    )

    # e-mail (SMTP); without a host nothing is sent by e-mail (deliveries wait)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "Qosym <no-reply@qosym.local>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False

    # SMS through the HTTP gateway protocol the registry uses; without a URL nothing is sent by SMS
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None  # the bearer for the gateway (and the dev stand-in's expected bearer)

    delivery_interval_s: float = 2.0
    delivery_batch_size: int = 50
    delivery_max_attempts: int = 8
    reminder_interval_s: float = 30.0
    attendance_reminder_days: int = 2
    voucher_reminder_days: int = 3
    stream_ticket_ttl_s: int = 60
