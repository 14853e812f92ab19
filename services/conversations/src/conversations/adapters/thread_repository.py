"""All SQL of a thread: the thread, its messages, attachments and read receipts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.adapters.orm import attachment, guardianship, message, receipt, thread
from conversations.domain.participants import Counterpart, ObjectType, Side, Subject, Thread


@dataclass(frozen=True)
class MessageRow:
    message_id: UUID
    author_side: str
    author_id: str
    language: str
    body: str
    posted_at: datetime


@dataclass(frozen=True)
class AttachmentRow:
    attachment_id: UUID
    message_id: UUID
    media_type: str
    size_bytes: int


@dataclass(frozen=True)
class ReceiptRow:
    reader_id: str
    reader_side: str
    last_read_message_id: UUID
    read_at: datetime


def _thread(row: Any) -> Thread:
    return Thread(
        thread_id=row.thread_id,
        subject=Subject(
            object_type=row.object_type,
            object_id=row.object_id,
            child_id=row.child_id,
            provider_id=row.provider_id,
            region_code=row.region_code,
            district_code=row.district_code,
        ),
        counterpart=row.counterpart,
        started_by_side=row.started_by_side,
        started_at=row.started_at,
    )


async def start(
    session: AsyncSession, thread_id: UUID, s: Subject, counterpart: Counterpart, side: Side, at: datetime
) -> tuple[Thread, bool]:
    """The object's thread with this counterpart, created when there is none yet (True when created)."""
    created = await session.execute(
        insert(thread)
        .values(
            thread_id=thread_id,
            object_type=s.object_type,
            object_id=s.object_id,
            counterpart=counterpart,
            child_id=s.child_id,
            provider_id=s.provider_id,
            region_code=s.region_code,
            district_code=s.district_code,
            started_by_side=side,
            started_at=at,
        )
        .on_conflict_do_nothing(constraint="thread_object_counterpart_key")
        .returning(thread.c.thread_id)
    )
    is_new = created.scalar_one_or_none() is not None
    row = (
        await session.execute(
            sa.select(thread).where(
                thread.c.object_type == s.object_type,
                thread.c.object_id == s.object_id,
                thread.c.counterpart == counterpart,
            )
        )
    ).one()
    return _thread(row), is_new


async def get(session: AsyncSession, thread_id: UUID) -> Thread | None:
    row = (await session.execute(sa.select(thread).where(thread.c.thread_id == thread_id))).one_or_none()
    return _thread(row) if row is not None else None


async def visible_to(
    session: AsyncSession,
    *,
    guardian_id: str | None = None,
    provider_id: str | None = None,
    region_code: str | None = None,
    district_code: str | None = None,
    object_type: ObjectType | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Thread], int]:
    """The threads a guardian (their children's), a provider's staff (provider threads) or an operator
    (consultation threads of their region/district) takes part in, newest first."""
    query = sa.select(thread)
    if guardian_id is not None:
        children = sa.select(guardianship.c.child_id).where(
            guardianship.c.guardian_id == guardian_id, guardianship.c.active
        )
        query = query.where(thread.c.child_id.in_(children))
    elif provider_id is not None:
        query = query.where(thread.c.counterpart == "provider", sa.cast(thread.c.provider_id, sa.Text) == provider_id)
    elif region_code is not None:
        query = query.where(thread.c.counterpart == "consultation_point", thread.c.region_code == region_code)
        if district_code is not None:
            query = query.where(thread.c.district_code == district_code)
    else:
        return [], 0
    if object_type is not None:
        query = query.where(thread.c.object_type == object_type)
    total = await session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(thread.c.started_at.desc(), thread.c.thread_id).offset(offset).limit(limit)
    )
    return [_thread(r) for r in rows], int(total or 0)


async def add_message(
    session: AsyncSession,
    thread_id: UUID,
    message_id: UUID,
    side: Side,
    author_id: str,
    language: str,
    body: str,
    at: datetime,
) -> None:
    await session.execute(
        sa.insert(message).values(
            message_id=message_id,
            thread_id=thread_id,
            author_side=side,
            author_id=author_id,
            language=language,
            body=body,
            posted_at=at,
        )
    )


def _message(row: Any) -> MessageRow:
    return MessageRow(
        message_id=row.message_id,
        author_side=row.author_side,
        author_id=row.author_id,
        language=row.language,
        body=row.body,
        posted_at=row.posted_at,
    )


async def messages(session: AsyncSession, thread_id: UUID, offset: int, limit: int) -> tuple[list[MessageRow], int]:
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(message).where(message.c.thread_id == thread_id)
    )
    rows = await session.execute(
        sa.select(message)
        .where(message.c.thread_id == thread_id)
        .order_by(message.c.posted_at, message.c.message_id)
        .offset(offset)
        .limit(limit)
    )
    return [_message(r) for r in rows], int(total or 0)


async def get_message(session: AsyncSession, thread_id: UUID, message_id: UUID) -> MessageRow | None:
    row = (
        await session.execute(
            sa.select(message).where(message.c.thread_id == thread_id, message.c.message_id == message_id)
        )
    ).one_or_none()
    return _message(row) if row is not None else None


async def last_message(session: AsyncSession, thread_id: UUID) -> MessageRow | None:
    row = (
        await session.execute(
            sa.select(message)
            .where(message.c.thread_id == thread_id)
            .order_by(message.c.posted_at.desc(), message.c.message_id.desc())
            .limit(1)
        )
    ).one_or_none()
    return _message(row) if row is not None else None


async def count_attachments(session: AsyncSession, message_id: UUID) -> int:
    count = await session.scalar(
        sa.select(sa.func.count()).select_from(attachment).where(attachment.c.message_id == message_id)
    )
    return int(count or 0)


async def add_attachment(
    session: AsyncSession,
    attachment_id: UUID,
    thread_id: UUID,
    message_id: UUID,
    media_type: str,
    size_bytes: int,
    sealed: bytes,
    at: datetime,
) -> None:
    await session.execute(
        sa.insert(attachment).values(
            attachment_id=attachment_id,
            thread_id=thread_id,
            message_id=message_id,
            media_type=media_type,
            size_bytes=size_bytes,
            sealed=sealed,
            uploaded_at=at,
        )
    )


async def attachments_of(session: AsyncSession, message_ids: list[UUID]) -> list[AttachmentRow]:
    if not message_ids:
        return []
    rows = await session.execute(
        sa.select(attachment.c.attachment_id, attachment.c.message_id, attachment.c.media_type, attachment.c.size_bytes)
        .where(attachment.c.message_id.in_(message_ids))
        .order_by(attachment.c.uploaded_at, attachment.c.attachment_id)
    )
    return [AttachmentRow(r.attachment_id, r.message_id, r.media_type, r.size_bytes) for r in rows]


async def sealed_attachment(session: AsyncSession, thread_id: UUID, attachment_id: UUID) -> tuple[str, bytes] | None:
    row = (
        await session.execute(
            sa.select(attachment.c.media_type, attachment.c.sealed).where(
                attachment.c.thread_id == thread_id, attachment.c.attachment_id == attachment_id
            )
        )
    ).one_or_none()
    return (row.media_type, cast(bytes, row.sealed)) if row is not None else None


async def mark_read(
    session: AsyncSession, thread_id: UUID, reader_id: str, side: Side, message_id: UUID, at: datetime
) -> None:
    stmt = insert(receipt).values(
        thread_id=thread_id, reader_id=reader_id, reader_side=side, last_read_message_id=message_id, read_at=at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["thread_id", "reader_id"],
            set_={"last_read_message_id": stmt.excluded.last_read_message_id, "read_at": stmt.excluded.read_at},
        )
    )


async def receipts(session: AsyncSession, thread_id: UUID) -> list[ReceiptRow]:
    rows = await session.execute(
        sa.select(receipt).where(receipt.c.thread_id == thread_id).order_by(receipt.c.read_at, receipt.c.reader_id)
    )
    return [ReceiptRow(r.reader_id, r.reader_side, r.last_read_message_id, r.read_at) for r in rows]
