"""Payments' parked events, read from the chassis' parking (docs/architecture.md, "Delivery", Parking).

Parking and releasing are the chassis' (``qosym_chassis.parking``: handlers raise ``Park`` and call
``parking.provided``); this module only lists what waits, for the operations route and reconciliation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class ParkedEvent:
    id: int
    waiting_for: str
    event_id: UUID
    event_type: str
    topic: str
    parked_at: datetime


_COLUMNS = "id, awaits AS waiting_for, event_id, event_type, topic, parked_at"


async def parked(session: AsyncSession, limit: int, offset: int) -> tuple[int, list[ParkedEvent]]:
    total = (await session.execute(text("SELECT count(*) FROM parked_event"))).scalar_one()
    rows = await session.execute(
        text(f"SELECT {_COLUMNS} FROM parked_event ORDER BY id LIMIT :n OFFSET :o"), {"n": limit, "o": offset}
    )
    return int(total), [ParkedEvent(r.id, r.waiting_for, r.event_id, r.event_type, r.topic, r.parked_at) for r in rows]


async def parked_since(session: AsyncSession) -> list[ParkedEvent]:
    """Every parked event, in arrival order (reconciliation names each)."""
    rows = await session.execute(text(f"SELECT {_COLUMNS} FROM parked_event ORDER BY id"))
    return [ParkedEvent(r.id, r.waiting_for, r.event_id, r.event_type, r.topic, r.parked_at) for r in rows]
