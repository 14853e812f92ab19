"""Dead letters: messages a consumer could not apply, kept with the error for an operator."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from qosym_chassis.outbox import TABLES

DEAD_LETTER = TABLES.dead_letter


@dataclass(frozen=True)
class FailedMessage:
    consumer: str
    topic: str
    partition: int | None
    offset: int | None
    key: str | None
    headers: dict[str, str]
    payload: bytes
    event_id: UUID | None

    @property
    def fingerprint(self) -> str:
        """What makes two failures one dead letter: the event's id; for a message without one (malformed bytes),
        where it was read (topic, partition, offset, key) and its bytes, so a redelivery of the same record
        refreshes its dead letter while the same bytes on another topic or offset are a dead letter of their own
        (chaos seed 2: two identical poison records on two topics kept only the first one's topic and key)."""
        if self.event_id:
            return str(self.event_id)
        where = f"{self.topic}\0{self.partition}\0{self.offset}\0{self.key}\0".encode()
        return hashlib.sha256(where + self.payload).hexdigest()


async def record(engine: AsyncEngine, message: FailedMessage, error: str, attempts: int) -> None:
    async with engine.begin() as conn:
        await record_in(conn, message, error, attempts)


async def record_in(conn: AsyncConnection, message: FailedMessage, error: str, attempts: int) -> None:
    """Record (or refresh) a dead letter in the caller's transaction."""
    values: dict[str, Any] = {
        "consumer": message.consumer,
        "fingerprint": message.fingerprint,
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "msg_key": message.key,
        "headers": message.headers,
        "payload": message.payload,
        "event_id": message.event_id,
        "error": error[:4000],
        "attempts": attempts,
    }
    statement = insert(DEAD_LETTER).values(**values)
    statement = statement.on_conflict_do_update(
        constraint="uq_dead_letter_consumer_fingerprint",
        set_={
            "error": statement.excluded.error,
            "attempts": DEAD_LETTER.c.attempts + statement.excluded.attempts,
            "last_failed_at": func.now(),
            "resolved_at": None,
            "retry_requested_at": None,
        },
    )
    await conn.execute(statement)


@dataclass(frozen=True)
class DeadLetter:
    id: int
    consumer: str
    topic: str
    event_id: UUID | None
    error: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    retry_requested_at: datetime | None
    resolved_at: datetime | None


async def list_dead_letters(engine: AsyncEngine, *, include_resolved: bool = False) -> list[DeadLetter]:
    query = select(DEAD_LETTER).order_by(DEAD_LETTER.c.id)
    if not include_resolved:
        query = query.where(DEAD_LETTER.c.resolved_at.is_(None))
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [
        DeadLetter(
            id=r["id"],
            consumer=r["consumer"],
            topic=r["topic"],
            event_id=r["event_id"],
            error=r["error"],
            attempts=r["attempts"],
            first_failed_at=r["first_failed_at"],
            last_failed_at=r["last_failed_at"],
            retry_requested_at=r["retry_requested_at"],
            resolved_at=r["resolved_at"],
        )
        for r in rows
    ]


async def unresolved_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        value = (
            await conn.execute(select(func.count()).select_from(DEAD_LETTER).where(DEAD_LETTER.c.resolved_at.is_(None)))
        ).scalar_one()
    return int(value)


async def request_retry(engine: AsyncEngine, ids: list[int] | None = None) -> int:
    """Ask the consumer process to apply these dead letters again (all unresolved when ids is None)."""
    statement = update(DEAD_LETTER).where(DEAD_LETTER.c.resolved_at.is_(None)).values(retry_requested_at=func.now())
    if ids is not None:
        statement = statement.where(DEAD_LETTER.c.id.in_(ids))
    async with engine.begin() as conn:
        result = await conn.execute(statement)
    return int(result.rowcount or 0)


async def due_for_retry(engine: AsyncEngine, limit: int = 50) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = (
            (
                await conn.execute(
                    select(DEAD_LETTER)
                    .where(DEAD_LETTER.c.retry_requested_at.is_not(None), DEAD_LETTER.c.resolved_at.is_(None))
                    .order_by(DEAD_LETTER.c.id)
                    .limit(limit)
                )
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


async def mark_resolved(engine: AsyncEngine, dead_letter_id: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(update(DEAD_LETTER).where(DEAD_LETTER.c.id == dead_letter_id).values(resolved_at=func.now()))


async def mark_retry_failed(engine: AsyncEngine, dead_letter_id: int, error: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(DEAD_LETTER)
            .where(DEAD_LETTER.c.id == dead_letter_id)
            .values(
                retry_requested_at=None,
                error=error[:4000],
                attempts=DEAD_LETTER.c.attempts + 1,
                last_failed_at=func.now(),
            )
        )
