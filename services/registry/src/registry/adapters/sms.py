"""Sending one-time codes: the real HTTP SMS gateway (``qosym_chassis.sms.HttpSmsGateway``), or the service log
when none is configured."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from qosym_chassis.sms import HttpSmsGateway, SmsRefused

__all__ = ["HttpSmsGateway", "LogSms", "SmsRefused", "SmsSender"]
log = logging.getLogger("registry.sms")


class SmsSender(Protocol):
    async def send(self, *, person_id: UUID, phone: str, text: str) -> None: ...


@dataclass
class LogSms:
    """Local stand-in: the message goes to the service log with the person id (never the IIN or phone)."""

    sent: list[tuple[UUID, str]] = field(default_factory=list)

    async def send(self, *, person_id: UUID, phone: str, text: str) -> None:
        self.sent.append((person_id, text))
        del self.sent[:-100]
        log.warning("SMS stand-in for person %s: %s", person_id, text)
