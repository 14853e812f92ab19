"""Notifications settings (QOSYM_ environment variables)."""

from __future__ import annotations

from qosym_chassis.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"
    sms_gateway_token: str | None = None  # dev SMS gateway stand-in: the bearer the registry must send, if set
