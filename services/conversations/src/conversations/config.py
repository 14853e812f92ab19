"""Conversations settings (QOSYM_ environment variables)."""

from __future__ import annotations

from qosym_chassis.settings import ServiceSettings


class ConversationsSettings(ServiceSettings):
    service_name: str = "conversations"
