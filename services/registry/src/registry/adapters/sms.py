"""Sending one-time codes: a real HTTP SMS gateway, or the service log when none is configured (local stack).

Gateway contract: ``POST {base}/v1/messages {"to": "+7701…", "text": "…", "reference": "<person id>"}`` → any 2xx
means accepted. ``reference`` is the recipient's opaque person id (gateways that do not know it ignore it; the
development stand-in in notifications delivers to that person's inbox).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

import httpx

log = logging.getLogger("registry.sms")


class SmsSender(Protocol):
    async def send(self, *, person_id: UUID, phone: str, text: str) -> None: ...


@dataclass
class HttpSmsGateway:
    base_url: str
    token: str | None = None
    timeout_s: float = 5.0
    transport: httpx.AsyncBaseTransport | None = None

    async def send(self, *, person_id: UUID, phone: str, text: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout_s, transport=self.transport) as http:
            response = await http.post(
                "/v1/messages", json={"to": phone, "text": text, "reference": str(person_id)}, headers=headers
            )
            response.raise_for_status()


@dataclass
class LogSms:
    """Local stand-in: the message goes to the service log with the person id (never the IIN or phone)."""

    sent: list[tuple[UUID, str]] = field(default_factory=list)

    async def send(self, *, person_id: UUID, phone: str, text: str) -> None:
        self.sent.append((person_id, text))
        del self.sent[:-100]
        log.warning("SMS stand-in for person %s: %s", person_id, text)
