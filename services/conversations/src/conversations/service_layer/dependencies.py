"""What conversations' use cases need (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.adapters.sealing import AttachmentBox
from qosym_chassis.clock import Clock


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    attachments: AttachmentBox
