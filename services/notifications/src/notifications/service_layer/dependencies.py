"""What notifications' use cases need, built once by ``bootstrap.py`` (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.adapters.contacts import ContactBox
from notifications.adapters.live import InboxHub
from notifications.adapters.tickets import StreamTickets
from notifications.service_layer.texts import Texts
from qosym_chassis.clock import Clock


class EmailSender(Protocol):
    async def send(self, *, delivery_id: UUID, to: str, subject: str, body: str, language: str) -> None: ...


class SmsSender(Protocol):
    async def send(self, *, person_id: UUID, phone: str, text: str) -> None: ...


@dataclass(frozen=True)
class Reminding:
    """How far ahead of a deadline a reminder fires, and the zone a voucher's last day is local to."""

    zone: ZoneInfo
    attendance_days: int
    voucher_days: int


@dataclass(frozen=True)
class Sending:
    """The external channels (None: not configured, deliveries wait) and the delivery job's limits."""

    email: EmailSender | None
    sms: SmsSender | None
    batch_size: int = 50
    max_attempts: int = 8


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    texts: Texts
    contacts: ContactBox
    live: InboxHub
    tickets: StreamTickets
    sending: Sending
    reminding: Reminding
    sms_gateway_token: str | None = None  # the development SMS stand-in's expected bearer
