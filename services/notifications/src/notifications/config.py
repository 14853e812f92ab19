"""Notifications settings (QOSYM_ environment variables)."""

from __future__ import annotations

from qosym_chassis.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"
