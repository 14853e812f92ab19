"""All SQL of the provider aggregate."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import provider
from catalog.adapters.scopes import within
from catalog.domain.reach import Reach

Row = dict[str, Any]


async def add_pending(session: AsyncSession, registered_by: str, values: Row) -> Row | None:
    """Insert a pending provider; None when its BIN is registered already."""
    row = (
        (
            await session.execute(
                insert(provider)
                .values(id=uuid4(), registered_by=registered_by, status="pending", **values)
                .on_conflict_do_nothing(index_elements=[provider.c.bin])
                .returning(*provider.c)
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def load(session: AsyncSession, provider_id: UUID, *, lock: bool = False) -> Row | None:
    query = select(provider).where(provider.c.id == provider_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row else None


async def listed(
    session: AsyncSession,
    reach: Reach,
    status: str | None,
    region_code: str | None,
    bin_: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Row], int]:
    query = select(provider).where(within(reach, provider.c.region_code, provider.c.district_code))
    if status:
        query = query.where(provider.c.status == status)
    if region_code:
        query = query.where(provider.c.region_code == region_code)
    if bin_:
        query = query.where(provider.c.bin == bin_)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(query.order_by(provider.c.created_at, provider.c.id).limit(limit).offset(offset))
    return [dict(r) for r in rows.mappings()], total


async def set_status(session: AsyncSession, provider_id: UUID, status: str, reason: str | None) -> Row:
    row = (
        (
            await session.execute(
                update(provider)
                .where(provider.c.id == provider_id)
                .values(status=status, status_reason=reason, updated_at=func.now())
                .returning(*provider.c)
            )
        )
        .mappings()
        .one()
    )
    return dict(row)
