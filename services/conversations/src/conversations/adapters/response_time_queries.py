"""Read side of the response-time report: the messages of a region's provider threads, in order."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.adapters.orm import message, thread
from conversations.domain.response_times import Posted


async def provider_thread_messages(session: AsyncSession, region_code: str) -> dict[UUID, list[Posted]]:
    """provider id -> every message of its threads in the region, ordered by thread then time."""
    rows = await session.execute(
        sa.select(thread.c.provider_id, thread.c.thread_id, message.c.author_side, message.c.posted_at)
        .join(message, message.c.thread_id == thread.c.thread_id)
        .where(thread.c.counterpart == "provider", thread.c.region_code == region_code)
        .order_by(thread.c.provider_id, thread.c.thread_id, message.c.posted_at, message.c.message_id)
    )
    found: dict[UUID, list[Posted]] = {}
    for r in rows:
        found.setdefault(r.provider_id, []).append(Posted(str(r.thread_id), r.author_side, r.posted_at))
    return found
