"""Inbox: a consumer records each event id in the same transaction as its effect (one statement per batch)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Text, any_, bindparam, delete, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis.outbox import TABLES

INBOX = TABLES.inbox


async def claim(session: AsyncSession, *, consumer: str, event_id: UUID, topic: str) -> bool:
    """True the first time (consumer, event_id) is seen; False for a redelivery.

    A concurrent duplicate blocks on the primary key until the first transaction ends.
    """
    result = await session.execute(
        insert(INBOX)
        .values(consumer=consumer, event_id=event_id, topic=topic)
        .on_conflict_do_nothing()
        .returning(INBOX.c.event_id)
    )
    return result.first() is not None


_CLAIM_ALL = text(
    "INSERT INTO inbox (consumer, event_id, topic)"
    " SELECT :consumer, e.event_id, e.topic FROM unnest(:event_ids, :topics) AS e(event_id, topic)"
    " ORDER BY e.event_id"
    " ON CONFLICT DO NOTHING RETURNING event_id"
).bindparams(
    bindparam("event_ids", type_=ARRAY(PG_UUID(as_uuid=True))),
    bindparam("topics", type_=ARRAY(Text)),
)


async def claim_all(session: AsyncSession, *, consumer: str, events: Sequence[tuple[UUID, str]]) -> set[UUID]:
    """Claim a batch's (event_id, topic) pairs in one statement; the ids seen for the first time.

    The same text whatever the batch size (one prepared statement), and the rows are inserted in event id order,
    so two batches that share ids wait for each other in one order and cannot deadlock on the primary key."""
    if not events:
        return set()
    result = await session.execute(
        _CLAIM_ALL,
        {"consumer": consumer, "event_ids": [e for e, _ in events], "topics": [t for _, t in events]},
    )
    return {row[0] for row in result}


async def unclaim(session: AsyncSession, *, consumer: str, event_ids: Sequence[UUID]) -> None:
    """Give back claims of this transaction whose events it will not apply (they are delivered again)."""
    if event_ids:
        await session.execute(
            delete(INBOX).where(
                INBOX.c.consumer == consumer,
                INBOX.c.event_id == any_(bindparam("ids", list(event_ids), type_=ARRAY(PG_UUID(as_uuid=True)))),
            )
        )
