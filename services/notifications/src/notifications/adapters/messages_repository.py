"""All SQL of the inbox: messages, each reader's read marks, and the reader's view of their audiences."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID, uuid4

from fastapi_pagination.ext.sqlalchemy import apaginate
from sqlalchemy import ColumnElement, RowMapping, Select, and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.live import announce, announce_all
from notifications.adapters.orm import inbox_message, message_read
from notifications.domain.messages import Message, NewMessage
from qosym_chassis.db import insert_from_arrays
from qosym_chassis.inputs import OffsetPage

T = TypeVar("T")


async def add_message(session: AsyncSession, new: NewMessage) -> UUID | None:
    """The new message's id; None when the recipient has it already (a redelivery or a replay)."""
    result = await session.execute(
        insert(inbox_message)
        .values(
            id=uuid4(),
            audience=new.audience,
            person_id=new.person_id,
            kind=new.kind,
            subject_id=new.subject_id,
            event_id=new.event_id,
            dedup_key=new.dedup_key,
            payload=new.payload,
        )
        .on_conflict_do_nothing()
        .returning(inbox_message.c.id)
    )
    message_id: UUID | None = result.scalar()
    if message_id is not None:
        await announce(session, new.audience, message_id)
    return message_id


async def add_messages(session: AsyncSession, new: Sequence[NewMessage]) -> dict[tuple[str, str], UUID]:
    """``add_message`` for many in one statement (in the given order, so ``seq`` follows it; one text for any
    number: compiled and prepared once): the new ids by ``(audience, dedup_key)``; a message the recipient has
    already is absent."""
    if not new:
        return {}
    rows = [
        {
            "id": uuid4(),
            "audience": n.audience,
            "person_id": n.person_id,
            "kind": n.kind,
            "subject_id": n.subject_id,
            "event_id": n.event_id,
            "dedup_key": n.dedup_key,
            "payload": n.payload,
        }
        for n in new
    ]
    result = await session.execute(
        insert_from_arrays(inbox_message, rows)
        .on_conflict_do_nothing()
        .returning(inbox_message.c.id, inbox_message.c.audience, inbox_message.c.dedup_key)
    )
    created = {(audience, dedup_key): message_id for message_id, audience, dedup_key in result.all()}
    await announce_all(
        session, [(n.audience, created[(n.audience, n.dedup_key)]) for n in new if (n.audience, n.dedup_key) in created]
    )
    return created


def _for(audiences: tuple[str, ...]) -> ColumnElement[bool]:
    exact = [a for a in audiences if not a.endswith(":*")]
    prefixes = [a[:-1] for a in audiences if a.endswith(":*")]
    return or_(inbox_message.c.audience.in_(exact), *(inbox_message.c.audience.startswith(p) for p in prefixes))


def _with_read_state(reader_id: UUID) -> Select[Any]:
    return select(*inbox_message.c, message_read.c.read_at).outerjoin(
        message_read, and_(message_read.c.message_id == inbox_message.c.id, message_read.c.reader_id == reader_id)
    )


def _inbox_query(audiences: tuple[str, ...], reader_id: UUID, *, unread_only: bool = False) -> Select[Any]:
    query = _with_read_state(reader_id).where(_for(audiences))
    if unread_only:
        query = query.where(message_read.c.read_at.is_(None))
    return query.order_by(inbox_message.c.seq.desc())


def _message(row: RowMapping) -> Message:
    return Message(
        id=row["id"],
        seq=row["seq"],
        audience=row["audience"],
        kind=row["kind"],
        subject_id=row["subject_id"],
        payload=row["payload"],
        created_at=row["created_at"],
        read_at=row.get("read_at"),
    )


async def inbox_page(
    session: AsyncSession,
    audiences: tuple[str, ...],
    reader_id: UUID,
    *,
    unread_only: bool,
    transform: Callable[[list[Message]], Awaitable[Sequence[T]]],
) -> OffsetPage[T]:
    """One page of the reader's messages, newest first (the page's limit and offset come from the request)."""

    async def rows_to_items(rows: Sequence[Any]) -> Sequence[T]:
        return await transform([_message(row._mapping) for row in rows])

    # unique=False: rows are distinct already, and JSONB values are unhashable for SQLAlchemy's unique()
    page: OffsetPage[T] = await apaginate(
        session,
        _inbox_query(audiences, reader_id, unread_only=unread_only),
        unique=False,
        transformer=rows_to_items,
    )
    return page


async def message_for(
    session: AsyncSession, message_id: UUID, audiences: tuple[str, ...], reader_id: UUID
) -> Message | None:
    row = (
        (await session.execute(_with_read_state(reader_id).where(inbox_message.c.id == message_id, _for(audiences))))
        .mappings()
        .first()
    )
    return _message(row) if row else None


async def messages_after(
    session: AsyncSession, audiences: tuple[str, ...], reader_id: UUID, seq: int, limit: int = 500
) -> list[Message]:
    rows = (
        (
            await session.execute(
                _with_read_state(reader_id)
                .where(_for(audiences), inbox_message.c.seq > seq)
                .order_by(inbox_message.c.seq)
                .limit(limit)
            )
        )
        .mappings()
        .all()
    )
    return [_message(r) for r in rows]


async def last_seq(session: AsyncSession, audiences: tuple[str, ...]) -> int:
    value = (await session.execute(select(func.max(inbox_message.c.seq)).where(_for(audiences)))).scalar()
    return int(value or 0)


async def unread_count(session: AsyncSession, audiences: tuple[str, ...], reader_id: UUID) -> int:
    query = (
        select(func.count())
        .select_from(
            inbox_message.outerjoin(
                message_read,
                and_(message_read.c.message_id == inbox_message.c.id, message_read.c.reader_id == reader_id),
            )
        )
        .where(_for(audiences), message_read.c.read_at.is_(None))
    )
    return int((await session.execute(query)).scalar_one())


async def mark_read(
    session: AsyncSession, message_id: UUID, audiences: tuple[str, ...], reader_id: UUID
) -> Message | None:
    """Mark one of the reader's messages read for them (the first time only); None if it is not theirs."""
    if await message_for(session, message_id, audiences, reader_id) is None:
        return None
    await session.execute(
        insert(message_read).values(message_id=message_id, reader_id=reader_id).on_conflict_do_nothing()
    )
    return await message_for(session, message_id, audiences, reader_id)


async def message_by_id(session: AsyncSession, message_id: UUID) -> Message | None:
    """The message itself, unread (for sending it by e-mail or SMS)."""
    row = (await session.execute(select(inbox_message).where(inbox_message.c.id == message_id))).mappings().first()
    return _message(row) if row else None


async def latest_texts(session: AsyncSession, kind: str, limit: int) -> tuple[list[RowMapping], int]:
    """The newest messages of one kind (``text``, ``created_at``), newest first, and how many there are."""
    rows = (
        (
            await session.execute(
                select(inbox_message.c.payload["text"].astext.label("text"), inbox_message.c.created_at)
                .where(inbox_message.c.kind == kind)
                .order_by(inbox_message.c.seq.desc())
                .limit(limit)
            )
        )
        .mappings()
        .all()
    )
    total = (await session.execute(select(func.count()).where(inbox_message.c.kind == kind))).scalar_one()
    return list(rows), int(total)
