"""Parking: events whose prerequisite has not arrived yet (docs/architecture.md, "Delivery", Parking).

A handler raises ``Park("child:<id>")`` when what it needs is missing; the consumer stores the event in
``parked_event`` in the same transaction as its inbox row and acknowledges it, so the partition moves on and no
retry is spent. A handler that brings a prerequisite calls ``await parking.provided(session, "child:<id>")``; the
consumer then applies, in the same transaction, the events parked on that key in their arrival order.

Parking and providing a key are serialised by a transaction-scoped advisory lock on the key: whoever parks after
the provider committed re-runs its handler under the lock and sees the prerequisite; whoever parks first is seen
by the provider's release.

Operators list, release ("retry now") and dead-letter parked events (``qosym parked ...``); those waiting longer
than ``QOSYM_PARKING_REPORT_AFTER_S`` are counted by the ``qosym_parked_overdue`` gauge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Text, any_, bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qosym_chassis import dead_letters
from qosym_chassis.outbox import TABLES

PARKED = TABLES.parked_event
INBOX = TABLES.inbox
PROVIDED = "qosym.parking.provided"


class Park(Exception):
    """Raised by a handler whose prerequisite is missing: the event waits for ``awaits`` (e.g. ``child:<id>``)."""

    def __init__(self, awaits: str, reason: str | None = None) -> None:
        super().__init__(reason or f"waits for {awaits}")
        self.awaits = awaits


async def lock(session: AsyncSession, key: str) -> None:
    """Serialise parking on ``key`` with its arrival (held until the transaction ends)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})


async def provided(session: AsyncSession, key: str) -> None:
    """This transaction brings ``key``: the consumer applies the events parked on it before committing."""
    await lock(session, key)
    session.info.setdefault(PROVIDED, []).append(key)


async def lock_all(session: AsyncSession, keys: Iterable[str]) -> None:
    """``lock`` on several keys in one statement, in one global order (so two batches cannot deadlock)."""
    ordered = sorted(set(keys))
    if ordered:
        await session.execute(
            text(
                "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k"
            ),
            {"keys": ordered},
        )


async def provided_all(session: AsyncSession, keys: Iterable[str]) -> None:
    """``provided`` for a batch's keys: locked in one statement, in one global order (a round's burst of awards)."""
    ordered = sorted(set(keys))
    await lock_all(session, ordered)
    session.info.setdefault(PROVIDED, []).extend(ordered)


release = provided
"""``release(session, key)``: the same call, named for the caller that thinks of freeing what waits."""


def take_provided(session: AsyncSession) -> list[str]:
    keys: list[str] = session.info.pop(PROVIDED, [])
    return keys


def provided_mark(session: AsyncSession) -> int:
    return len(session.info.get(PROVIDED, []))


def provided_since(session: AsyncSession, mark: int) -> list[str]:
    keys: list[str] = session.info.get(PROVIDED, [])[mark:]
    return keys


def forget_provided_since(session: AsyncSession, mark: int) -> None:
    """A rolled-back savepoint provided nothing."""
    keys = session.info.get(PROVIDED)
    if keys is not None:
        del keys[mark:]


@dataclass(frozen=True)
class Arrival:
    consumer: str
    event_id: UUID
    event_type: str
    topic: str
    awaits: str
    msg_key: str | None
    partition: int | None
    offset: int | None
    headers: dict[str, str]
    payload: bytes


async def store(session: AsyncSession, arrival: Arrival) -> None:
    """Park the event (once: a second store of the same event id changes nothing)."""
    await session.execute(
        insert(PARKED)
        .values(
            consumer=arrival.consumer,
            event_id=arrival.event_id,
            event_type=arrival.event_type,
            topic=arrival.topic,
            awaits=arrival.awaits,
            msg_key=arrival.msg_key,
            partition=arrival.partition,
            offset=arrival.offset,
            headers=arrival.headers,
            payload=arrival.payload,
        )
        .on_conflict_do_nothing(constraint="uq_parked_event_consumer_event")
    )


async def waiting_on_key(
    session: AsyncSession, consumer: str, msg_key: str | None, before_id: int | None = None
) -> str | None:
    """What the latest event parked for this partition key (before ``before_id``) awaits; None when none waits."""
    if msg_key is None:
        return None
    query = select(PARKED.c.awaits).where(PARKED.c.consumer == consumer, PARKED.c.msg_key == msg_key)
    if before_id is not None:
        query = query.where(PARKED.c.id < before_id)
    value = (await session.execute(query.order_by(PARKED.c.id.desc()).limit(1))).scalar_one_or_none()
    return str(value) if value is not None else None


async def waiting_on_keys(session: AsyncSession, consumer: str, msg_keys: Iterable[str]) -> dict[str, str]:
    """``waiting_on_key`` for a batch's partition keys in one statement: key -> what its latest parked event awaits
    (keys without parked events are absent)."""
    keys = sorted(set(msg_keys))
    if not keys:
        return {}
    query = (
        select(PARKED.c.msg_key, PARKED.c.awaits)
        .where(PARKED.c.consumer == consumer, PARKED.c.msg_key == any_(bindparam("keys", keys, type_=ARRAY(Text))))
        .order_by(PARKED.c.msg_key, PARKED.c.id.desc())
        .ext(distinct_on(PARKED.c.msg_key))
    )
    return {str(r.msg_key): str(r.awaits) for r in await session.execute(query)}


async def awaited(session: AsyncSession, consumer: str, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` some event of this consumer is parked on, in one statement (usually none of them)."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    query = (
        select(PARKED.c.awaits)
        .where(PARKED.c.consumer == consumer, PARKED.c.awaits == any_(bindparam("keys", wanted, type_=ARRAY(Text))))
        .distinct()
    )
    return {str(value) for value in (await session.execute(query)).scalars()}


async def parked_on(session: AsyncSession, consumer: str, awaits: str) -> list[Row[Any]]:
    """The events parked on ``awaits``, in arrival order, locked for this transaction."""
    query = (
        select(PARKED)
        .where(PARKED.c.consumer == consumer, PARKED.c.awaits == awaits)
        .order_by(PARKED.c.id)
        .with_for_update()
    )
    return list((await session.execute(query)).all())


async def locked(session: AsyncSession, parked_id: int) -> Row[Any] | None:
    return (await session.execute(select(PARKED).where(PARKED.c.id == parked_id).with_for_update())).first()


async def applied(session: AsyncSession, parked_id: int) -> None:
    await session.execute(delete(PARKED).where(PARKED.c.id == parked_id))


async def reawait(session: AsyncSession, parked_id: int, awaits: str, error: str | None = None) -> None:
    """Still waiting (for ``awaits`` now); its arrival order is kept."""
    await session.execute(
        update(PARKED)
        .where(PARKED.c.id == parked_id)
        .values(awaits=awaits, release_requested_at=None, last_error=error[:4000] if error else None)
    )


async def forget(session: AsyncSession, consumer: str, parked_id: int, event_id: UUID) -> None:
    """The event leaves the parking and the inbox (it was dead-lettered, so a retry may apply it)."""
    await session.execute(delete(INBOX).where(INBOX.c.consumer == consumer, INBOX.c.event_id == event_id))
    await session.execute(delete(PARKED).where(PARKED.c.id == parked_id))


# --- operators ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParkedEvent:
    id: int
    consumer: str
    event_id: UUID
    event_type: str
    topic: str
    awaits: str
    msg_key: str | None
    parked_at: datetime
    release_requested_at: datetime | None
    last_error: str | None


def _parked_event(r: Any) -> ParkedEvent:
    return ParkedEvent(
        id=r.id,
        consumer=r.consumer,
        event_id=r.event_id,
        event_type=r.event_type,
        topic=r.topic,
        awaits=r.awaits,
        msg_key=r.msg_key,
        parked_at=r.parked_at,
        release_requested_at=r.release_requested_at,
        last_error=r.last_error,
    )


def _older_than(older_than: timedelta | None) -> Any:
    if older_than is None:
        return True
    return PARKED.c.parked_at < func.now() - older_than


async def list_parked(
    engine: AsyncEngine, *, older_than: timedelta | None = None, limit: int = 1000, offset: int = 0
) -> list[ParkedEvent]:
    """Parked events in arrival order (only those parked longer than ``older_than`` when given)."""
    query = select(PARKED).where(_older_than(older_than)).order_by(PARKED.c.id).limit(limit).offset(offset)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [_parked_event(r) for r in rows]


async def count(engine: AsyncEngine, *, older_than: timedelta | None = None) -> int:
    async with engine.connect() as conn:
        value = (
            await conn.execute(select(func.count()).select_from(PARKED).where(_older_than(older_than)))
        ).scalar_one()
    return int(value)


async def request_release(engine: AsyncEngine, ids: list[int] | None = None) -> int:
    """Ask the consumer process to apply these parked events now (all when ids is None), whatever they await."""
    statement = update(PARKED).values(release_requested_at=func.now())
    if ids is not None:
        statement = statement.where(PARKED.c.id.in_(ids))
    async with engine.begin() as conn:
        result = await conn.execute(statement)
    return int(result.rowcount or 0)


async def due_for_release(engine: AsyncEngine, limit: int = 50) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(PARKED.c.id).where(PARKED.c.release_requested_at.is_not(None)).order_by(PARKED.c.id).limit(limit)
        )
        return [int(r.id) for r in rows]


async def dead_letter(engine: AsyncEngine, ids: list[int], reason: str = "dead-lettered by an operator") -> int:
    """Give up on these parked events: each becomes a dead letter (``qosym dlq retry`` can apply it later: its
    inbox row goes with it) and leaves the parking."""
    moved = 0
    for parked_id in ids:
        async with engine.begin() as conn:
            row = (await conn.execute(select(PARKED).where(PARKED.c.id == parked_id).with_for_update())).first()
            if row is None:
                continue
            await dead_letters.record_in(
                conn,
                dead_letters.FailedMessage(
                    consumer=row.consumer,
                    topic=row.topic,
                    partition=row.partition,
                    offset=row.offset,
                    key=row.msg_key,
                    headers=dict(row.headers or {}),
                    payload=row.payload,
                    event_id=row.event_id,
                ),
                f"{reason}; parked since {row.parked_at:%Y-%m-%d %H:%M:%S}Z awaiting {row.awaits}",
                attempts=1,
            )
            await conn.execute(delete(INBOX).where(INBOX.c.consumer == row.consumer, INBOX.c.event_id == row.event_id))
            await conn.execute(delete(PARKED).where(PARKED.c.id == parked_id))
            moved += 1
    return moved
