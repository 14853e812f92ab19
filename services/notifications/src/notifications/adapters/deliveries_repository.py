"""All SQL of planned e-mail and SMS deliveries: planning, claiming the due ones, settling each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.orm import delivery
from qosym_chassis.db import insert_from_arrays


@dataclass(frozen=True)
class DueDelivery:
    id: UUID
    message_id: UUID
    person_id: UUID
    channel: str
    attempts: int


async def add_delivery(
    session: AsyncSession, message_id: UUID, person_id: UUID, channel: str, not_before: datetime
) -> None:
    await session.execute(
        insert(delivery)
        .values(id=uuid4(), message_id=message_id, person_id=person_id, channel=channel, not_before=not_before)
        .on_conflict_do_nothing()
    )


async def add_deliveries(
    session: AsyncSession, planned: Sequence[tuple[UUID, UUID, str]], not_before: datetime
) -> None:
    """``add_delivery`` for many ``(message_id, person_id, channel)`` in one statement (one text for any number:
    compiled and prepared once)."""
    if not planned:
        return
    rows = [
        {"id": uuid4(), "message_id": m, "person_id": p, "channel": c, "not_before": not_before} for m, p, c in planned
    ]
    await session.execute(insert_from_arrays(delivery, rows).on_conflict_do_nothing())


async def claim_due_deliveries(session: AsyncSession, now: datetime, limit: int) -> list[DueDelivery]:
    """The due deliveries, locked for this transaction (``SKIP LOCKED``: replicas never claim the same one)."""
    rows = (
        (
            await session.execute(
                select(delivery)
                .where(delivery.c.status == "pending", delivery.c.not_before <= now)
                .order_by(delivery.c.not_before)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .mappings()
        .all()
    )
    return [DueDelivery(r["id"], r["message_id"], r["person_id"], r["channel"], r["attempts"]) for r in rows]


_UNCHANGED: Any = object()


async def settle_delivery(
    session: AsyncSession,
    delivery_id: UUID,
    *,
    status: str | None = None,
    attempts: int | None = None,
    not_before: datetime | None = None,
    sent_at: datetime | None = None,
    last_error: str | None = _UNCHANGED,
) -> None:
    """Record the outcome of one attempt; the fields not given stay as they are."""
    values: dict[str, Any] = {
        name: value
        for name, value in (
            ("status", status),
            ("attempts", attempts),
            ("not_before", not_before),
            ("sent_at", sent_at),
        )
        if value is not None
    }
    if last_error is not _UNCHANGED:
        values["last_error"] = last_error
    await session.execute(update(delivery).where(delivery.c.id == delivery_id).values(**values))
