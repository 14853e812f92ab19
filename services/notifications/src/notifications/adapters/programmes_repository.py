"""All SQL of the programme projection: each programme's provider and title (from catalog's events)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.orm import programme
from qosym_chassis.db import upsert_if_newer


async def set_programme(
    session: AsyncSession, programme_id: UUID, provider_id: UUID, title: dict[str, str] | None, at: datetime
) -> None:
    """Order-tolerant: an older state changes nothing (one as old overwrites it)."""
    await upsert_if_newer(
        session,
        programme,
        {"programme_id": programme_id, "provider_id": provider_id, "title": title, "changed_at": at},
        key=["programme_id"],
        revision="changed_at",
        also_when=programme.c.changed_at == at,
        touch=None,
    )


async def programme_titles(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, dict[str, str]]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(programme.c.programme_id, programme.c.title).where(programme.c.programme_id.in_(wanted))
    )
    return {r.programme_id: r.title for r in rows if r.title}
