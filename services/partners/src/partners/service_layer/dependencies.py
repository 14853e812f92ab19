"""What partners' use cases need (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from partners.adapters.sealing import SecretBox
from partners.adapters.sender import WebhookSender
from qosym_chassis.clock import Clock


@dataclass(frozen=True)
class Retries:
    max_attempts: int
    backoff_base_s: float
    backoff_max_s: float
    lease_s: float
    batch: int


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    secrets: SecretBox
    sender: WebhookSender
    retries: Retries
    allow_http: bool
