"""Parked events: events that arrived before what they need (docs/architecture.md, Delivery)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters._sql import one


async def park(
    session: AsyncSession, waiting_for: str, event_id: UUID, event_type: str, topic: str, payload: dict[str, Any]
) -> None:
    await session.execute(
        text(
            "INSERT INTO parked_event (waiting_for, event_id, event_type, topic, payload)"
            " VALUES (:w, :e, :t, :topic, CAST(:p AS JSONB)) ON CONFLICT (event_id) DO NOTHING"
        ),
        {"w": waiting_for, "e": event_id, "t": event_type, "topic": topic, "p": json.dumps(payload)},
    )


_ARRIVED = {
    "region": "SELECT 1 FROM region_budget WHERE region_code = :k",
    "round": "SELECT 1 FROM funding_round WHERE round_id = CAST(:k AS uuid)",
    "voucher": "SELECT 1 FROM voucher WHERE voucher_id = CAST(:k AS uuid)",
    "enrolment": "SELECT 1 FROM enrolment WHERE enrolment_id = CAST(:k AS uuid)",
}


async def lock_awaited(session: AsyncSession, waiting_for: str) -> None:
    """Serialise parking on a key with its arrival (a lock held until the transaction ends): whoever parks after
    the arrival committed sees it; whoever parks before it is seen by the arrival's unpark."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": waiting_for})


async def has_arrived(session: AsyncSession, waiting_for: str) -> bool:
    kind, _, key = waiting_for.partition(":")
    return await one(session, _ARRIVED[kind], k=key) is not None


@dataclass(frozen=True)
class ParkedPayload:
    event_type: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ParkedEvent:
    id: int
    waiting_for: str
    event_id: UUID
    event_type: str
    topic: str
    parked_at: datetime


async def take_parked(session: AsyncSession, waiting_for: str) -> list[ParkedPayload]:
    """Remove and return the events waiting for ``waiting_for``, in arrival order."""
    rows = await session.execute(
        text("DELETE FROM parked_event WHERE waiting_for = :w RETURNING id, event_type, payload"), {"w": waiting_for}
    )
    return [
        ParkedPayload(r.event_type, json.loads(r.payload) if isinstance(r.payload, str) else r.payload)
        for r in sorted(rows, key=lambda r: r.id)
    ]


async def parked(session: AsyncSession, limit: int, offset: int) -> tuple[int, list[ParkedEvent]]:
    total = (await session.execute(text("SELECT count(*) FROM parked_event"))).scalar_one()
    rows = await session.execute(
        text(
            "SELECT id, waiting_for, event_id, event_type, topic, parked_at FROM parked_event"
            " ORDER BY id LIMIT :n OFFSET :o"
        ),
        {"n": limit, "o": offset},
    )
    return int(total), [ParkedEvent(r.id, r.waiting_for, r.event_id, r.event_type, r.topic, r.parked_at) for r in rows]


async def parked_since(session: AsyncSession) -> list[ParkedEvent]:
    """Every parked event, in arrival order (reconciliation names each)."""
    rows = await session.execute(
        text("SELECT id, waiting_for, event_id, event_type, topic, parked_at FROM parked_event ORDER BY id")
    )
    return [ParkedEvent(r.id, r.waiting_for, r.event_id, r.event_type, r.topic, r.parked_at) for r in rows]
