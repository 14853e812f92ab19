"""Sending one-time codes: the real HTTP SMS gateway (``qosym_chassis.sms.HttpSmsGateway``), or the service log
when none is configured."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from qosym_chassis.sms import HttpSmsGateway, SmsRefused

__all__ = ["BackgroundSms", "HttpSmsGateway", "LogSms", "SmsRefused", "SmsSender"]
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


@dataclass
class BackgroundSms:
    """Hands a message to the gateway without making the request wait for it.

    A login code request then answers in the same time whether or not a code was sent (the gateway's latency
    would tell a known IIN from an unknown one). A failed send is logged with the person id only; the person
    asks for a new code.
    """

    sender: SmsSender
    pending: set[asyncio.Task[None]] = field(default_factory=set)

    def dispatch(self, *, person_id: UUID, phone: str, text: str) -> None:
        task = asyncio.create_task(self._send(person_id, phone, text))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _send(self, person_id: UUID, phone: str, text: str) -> None:
        try:
            await self.sender.send(person_id=person_id, phone=phone, text=text)
        except Exception as exc:  # the exception's text never carries the phone or the code (HttpSmsGateway)
            log.warning("SMS for person %s was not accepted: %s", person_id, type(exc).__name__)

    async def idle(self) -> None:
        """Wait until every dispatched message was handed over (tests and shutdown)."""
        while self.pending:
            await asyncio.gather(*list(self.pending), return_exceptions=True)
